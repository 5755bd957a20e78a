"""The design documents name only things that exist.

``docs/architecture.md`` and ``CONTRIBUTING.rst`` cite files, tests, make targets and Python
names; a rename that forgets them would leave the map pointing at nothing. These tests read every
such citation out of the documents and check it against the checkout, so a stale page fails the
suite in the commit that made it stale.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ("docs/architecture.md", "CONTRIBUTING.rst")

# A citation is quoted code: `x` in Markdown, ``x`` in reStructuredText; fenced blocks are examples.
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_QUOTED = re.compile(r"``([^`]+)``|`([^`]+)`")
_PATH_ROOTS = ("bitdust/", "tests/", "automats/", "docs/")
_MAKE = re.compile(r"\bmake ([a-z][a-z0-9-]*)")
_DOTTED = re.compile(r"^bitdust(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")


def quoted(text: str) -> list[str]:
    """Every quoted piece of code in ``text`` outside fenced blocks, in order."""
    return [double or single for double, single in _QUOTED.findall(_FENCE.sub("", text))]


def cited_paths(text: str) -> list[str]:
    """Repository paths cited in ``text``: ``bitdust/p2p/packet.py``, ``tests/x.py::test_y``, globs.

    A template (``automats/<name>.md``) names no file, so it is left out.
    """
    found = []
    for code in quoted(text):
        code = code.strip()
        if code.startswith(_PATH_ROOTS) and " " not in code and "<" not in code:
            found.append(code)
    return found


def missing_paths(text: str, root: Path) -> list[str]:
    """The cited paths of ``text`` that do not exist under ``root`` (a test id's test included)."""
    missing = []
    for citation in cited_paths(text):
        path, _, test = citation.partition("::")
        if any(char in path for char in "*?["):
            if not list(root.glob(path)):
                missing.append(citation)
            continue
        target = root / path
        if not target.exists():
            missing.append(citation)
        elif test and not re.search(rf"^(?:async )?def {re.escape(test)}\(", target.read_text(encoding="utf-8"), re.M):
            missing.append(citation)
    return missing


def make_targets(makefile: str) -> set[str]:
    """The targets a Makefile defines (``name:`` at the start of a line)."""
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))


def cited_targets(text: str) -> set[str]:
    return {target for code in quoted(text) for target in _MAKE.findall(code)}


def unresolved_names(text: str) -> list[str]:
    """Dotted names ``bitdust.a.b.c`` cited in ``text`` that are neither a module nor an attribute of one."""
    unresolved = []
    for code in quoted(text):
        name = code.strip().split("(")[0]
        if not _DOTTED.match(name):
            continue
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute, None)
                if obj is None:
                    break
            if obj is None:
                unresolved.append(name)
            break
        else:
            unresolved.append(name)
    return unresolved


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_path_a_document_names_exists(document: str) -> None:
    assert cited_paths(_read(document)), f"{document} cites no path: the extraction is broken"
    assert missing_paths(_read(document), ROOT) == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_make_target_a_document_names_exists(document: str) -> None:
    assert cited_targets(_read(document)) - make_targets(_read("Makefile")) == set()


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_python_name_a_document_names_resolves(document: str) -> None:
    assert unresolved_names(_read(document)) == []


def test_the_readme_points_at_both_documents() -> None:
    readme = _read("README.rst")
    design = readme[readme.index("\nDesign\n") :]
    assert "``docs/architecture.md``" in design
    assert "``CONTRIBUTING.rst``" in design


def test_the_checks_find_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "bitdust").mkdir()
    (tmp_path / "bitdust" / "here.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_here.py").write_text("def test_present():\n    pass\n")
    text = (
        "`bitdust/here.py`, `bitdust/gone.py`, ``bitdust/*.py``, `bitdust/none_*.txt`, "
        "`tests/test_here.py::test_present`, `tests/test_here.py::test_absent`, `automats/<name>.md`"
    )
    assert missing_paths(text, tmp_path) == [
        "bitdust/gone.py",
        "bitdust/none_*.txt",
        "tests/test_here.py::test_absent",
    ]
    assert cited_targets("run `make run` or ``make no-such-target``") == {"run", "no-such-target"}
    assert cited_targets("```\nlet make us stop\n```\n`make test`") == {"test"}
    assert make_targets("run: install\n\t$(PY) x\nno-such:\n") == {"run", "no-such"}
    assert unresolved_names("`bitdust.layers.LAYERS`, `bitdust.layers.NOPE`, ``bitdust.nope.x``") == [
        "bitdust.layers.NOPE",
        "bitdust.nope.x",
    ]


def test_contributing_lists_every_benchmark() -> None:
    from bitdust.bench.registry import benchmarks

    text = _read("CONTRIBUTING.rst")
    section = text[text.index("\nBenchmark\n") : text.index("\nRegenerate\n")]
    listed = section[section.index("runs one:") : section.index("; ``--json``")]
    assert set(quoted(listed)) == set(benchmarks())
