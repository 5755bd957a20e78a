from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from bitdust.automats.checks import check_sources, missing_methods
from bitdust.automats.generator import generate_all
from bitdust.automats.source import parse_source
from tests.automats.helpers import SOURCES

_packages = itertools.count()

COMPLETE = """
from {package}.initializer_machine import InitializerMachine


class Initializer(InitializerMachine):
    def do_init_local(self): pass
    def do_start_services(self): pass
    def do_send_event(self): pass
    def do_report_failure(self, *, failure): pass
    def do_check(self): pass
    def is_ok(self): return True
    def is_stopping(self): return False
"""

# The documented example, with a payload on one event.
PAYLOAD = "timers:\n  timer-10sec: 10\nevents:\n  init-local-failed: {failure: Failure}\n"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A fresh importable package holding the initializer source, with its machine generated."""
    name = f"automats_check_{next(_packages)}"
    root = tmp_path / "root"
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    sources = tmp_path / "automats"
    sources.mkdir()
    text = (SOURCES / "initializer.md").read_text().replace("bitdust.main.lifecycle.initializer", f"{name}.initializer")
    text = text.replace("timers:\n  timer-10sec: 10\n", PAYLOAD)
    (sources / "initializer.md").write_text(text)
    generate_all(sources, root)
    monkeypatch.syspath_prepend(str(root))
    return name, sources


def _write(package: tuple[str, Path], text: str) -> None:
    name, sources = package
    root = sources.parent / "root"
    (root / name / "initializer.py").write_text(text.format(package=name))


def test_complete_class_has_nothing_missing(package: tuple[str, Path]) -> None:
    _write(package, COMPLETE)
    assert missing_methods(parse_source(package[1] / "initializer.md")) == []
    assert check_sources(package[1]) == {}


def test_missing_action_and_condition(package: tuple[str, Path]) -> None:
    text = COMPLETE.replace("    def do_send_event(self): pass\n", "")
    text = text.replace("    def is_ok(self): return True\n", "    is_ok = True\n")
    _write(package, text)
    assert missing_methods(parse_source(package[1] / "initializer.md")) == ["do_send_event", "is_ok"]
    assert check_sources(package[1]) == {"initializer": ["do_send_event", "is_ok"]}


def test_not_a_subclass(package: tuple[str, Path]) -> None:
    _write(package, COMPLETE.replace("class Initializer(InitializerMachine):", "class Initializer:"))
    name = package[0]
    assert missing_methods(parse_source(package[1] / "initializer.md")) == [
        f"subclass of {name}.initializer_machine.InitializerMachine"
    ]


def test_missing_class(package: tuple[str, Path]) -> None:
    _write(package, "Initializer = None\n")
    assert missing_methods(parse_source(package[1] / "initializer.md")) == [
        f"class {package[0]}.initializer.Initializer"
    ]


def test_missing_module_raises(package: tuple[str, Path]) -> None:
    with pytest.raises(ImportError):
        missing_methods(parse_source(package[1] / "initializer.md"))


@pytest.mark.parametrize(
    ("method", "why"),
    [
        ("def do_report_failure(self, *args, **kwargs): pass", "do_report_failure takes *args: name the payload"),
        ("def do_report_failure(self, *, error): pass", "do_report_failure takes (error), the payload is (failure)"),
        ("def do_report_failure(self): pass", "do_report_failure takes (nothing), the payload is (failure)"),
        ("def do_report_failure(self, failure, /): pass", "takes failure by position only"),
    ],
)
def test_wrong_parameters_are_named_with_the_right_declaration(
    package: tuple[str, Path], method: str, why: str
) -> None:
    _write(package, COMPLETE.replace("def do_report_failure(self, *, failure): pass", method))
    [problem] = check_sources(package[1])["initializer"]
    assert why in problem
    assert problem.endswith("declare it def do_report_failure(self, *, failure: Failure)")


def test_a_field_only_some_events_carry_needs_a_default(package: tuple[str, Path]) -> None:
    name, sources = package
    path = sources / "initializer.md"
    path.write_text(
        path.read_text().replace(
            "LOCAL --> FAILED : init-local-failed / do_report_failure",
            "LOCAL --> FAILED : init-local-failed / do_report_failure\n    FAILED --> FAILED : run / do_report_failure",
        )
    )
    generate_all(sources, sources.parent / "root")
    _write(package, COMPLETE)
    [problem] = check_sources(sources)["initializer"]
    assert "needs a default for failure" in problem
    assert problem.endswith("def do_report_failure(self, *, failure: Failure | None = None)")
    _write(package, COMPLETE.replace("*, failure)", "*, failure=None)"))
    sys.modules.pop(f"{name}.initializer")
    assert check_sources(sources) == {}


def test_a_class_that_hides_an_event_method_is_named(package: tuple[str, Path]) -> None:
    _write(package, COMPLETE + "    def run(self): pass\n")
    assert check_sources(package[1]) == {"initializer": ["run hides the generated method that sends run: rename it"]}
