"""HTTP stays in ``bitdust/interface``: the core raises domain errors and never names a status.

An AST check over every module outside ``bitdust/interface/``: none may name ``BadRequest`` (an
import, a class, a raise, an ``except``) nor read or set an ``http_code`` / ``http_status``
attribute. The statuses of errors live in ``bitdust/interface/error_statuses.py`` alone.

What the check does not forbid, on purpose: modules that speak HTTP as their wire protocol (the
identity server and its client in ``userid/``, the HTTP load generator in ``bench/``) write and
read statuses of their own protocol; they still take no status from an error class.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Names that mean "an HTTP answer" and so belong to the interface alone.
HTTP_NAMES = frozenset({"BadRequest", "http_code", "http_status"})


def _names(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id, node.lineno
        elif isinstance(node, ast.Attribute):
            yield node.attr, node.lineno
        elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield alias.name, node.lineno
                if alias.asname:
                    yield alias.asname, node.lineno
        elif isinstance(node, ast.keyword) and node.arg:
            yield node.arg, getattr(node, "lineno", 0)


def http_outside_interface(root: Path) -> list[str]:
    """``path:line: name`` for each HTTP name used by a module of ``root/bitdust`` outside interface."""
    found = []
    package = root / "bitdust"
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[1] == "interface":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += [f"{relative}:{line}: {name}" for name, line in _names(tree) if name in HTTP_NAMES]
    return found


def test_no_module_outside_the_interface_names_an_http_error() -> None:
    found = http_outside_interface(ROOT)
    assert not found, "HTTP outside bitdust/interface:\n" + "\n".join(found)


def test_each_spelling_of_an_http_error_is_caught(tmp_path: Path) -> None:
    sources = {
        "dht/a.py": "from bitdust.main.errors import BadRequest as B\n",
        "dht/b.py": "import bitdust.main.errors as e\n\n\ndef f():\n    raise e.BadRequest('x')\n",
        "userid/c.py": "class E(Exception):\n    http_code = 502\n",
        "p2p/d.py": "def f(exc):\n    return exc.http_code\n",
        "main/e.py": "class BadRequest(Exception):\n    pass\n",
        "interface/f.py": "from bitdust.main.errors import BadRequest\ncode = BadRequest('x').http_code\n",
        "storage/g.py": "from bitdust.errors import InvalidInput\n\n\ndef f():\n    raise InvalidInput('x')\n",
    }
    for name, source in sources.items():
        path = tmp_path / "bitdust" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    assert http_outside_interface(tmp_path) == [
        "bitdust/dht/a.py:1: BadRequest",
        "bitdust/dht/b.py:5: BadRequest",
        "bitdust/main/e.py:1: BadRequest",
        "bitdust/p2p/d.py:2: http_code",
        "bitdust/userid/c.py:2: http_code",
    ]
