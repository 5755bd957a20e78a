"""The one-way layer order of the ``bitdust`` packages, as data, and the check that enforces it.

A package may import its own modules, the packages in rows above it and the shared root modules,
never a row below it: where a lower layer must call up (a transport handing a packet to the
gateway, a DHT record check needing the ECC maps), it is given a callback or a ``Protocol`` by
the service that wires it. The bottom packages may import anything. ``tests/test_layers.py``
runs :func:`violations` over every module of the package, imports inside functions and under
``TYPE_CHECKING`` included (no exemption is needed today, so none is granted), so a violation
fails the test suite. This module imports nothing of the project, so every layer may read it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import attrs

PACKAGE = "bitdust"

#: Rows from the top down; a package may import only its own row and the rows above it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("automats",),
    ("main",),
    ("crypt",),
    ("userid",),
    ("p2p",),
    ("dht",),
    ("stun",),
    ("transport",),
    ("raid",),
    ("storage",),
    ("customer",),
    ("supplier",),
    ("access",),
    ("contacts",),
    ("chat",),
    ("stream",),
)

#: Below every row, free to import anything: the services wiring each subsystem into the Engine,
#: the local API and CLI, the sandbox, the tools (benchmarks, the in-process test network) and
#: ``node`` (the composition of an engine and the entry points that run it).
BOTTOM: tuple[str, ...] = ("services", "interface", "sandbox", "bench", "testing", "node")

#: Modules of the package root above every row: any module may import them, they import only
#: each other. ``__main__`` is the ``python -m bitdust`` entry point, so it is at the bottom.
SHARED: tuple[str, ...] = ("bitdust", "bitdust.errors", "bitdust.layers")
ROOT_ENTRY_POINTS: tuple[str, ...] = ("bitdust.__main__",)


@attrs.frozen
class Violation:
    """One import that breaks the order: who imports what, on which line, and the rule broken."""

    importer: str
    imported: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}: {self.rule}"


def _row(layer: str) -> int | None:
    for number, row in enumerate(LAYERS):
        if layer in row:
            return number
    return None


def module_name(path: Path, root: Path) -> str:
    """``bitdust/dht/records.py`` -> ``bitdust.dht.records`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> Iterator[tuple[str, int]]:
    """Every module ``tree`` imports, anywhere in it, with the line of the import.

    Relative imports are resolved against ``module``; ``from a import b`` is an import of
    ``a.b`` when that is one of ``modules`` (the project's modules), else of ``a``; a literal
    ``importlib.import_module("...")`` counts too.
    """
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                name = f"{target}.{alias.name}"
                yield (name if name in modules else target), node.lineno
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value, node.lineno


def _layer_of(module: str) -> str | None:
    """The package of ``module`` (``dht`` for ``bitdust.dht.records``); None for a root module."""
    parts = module.split(".")
    if module in SHARED or module in ROOT_ENTRY_POINTS or len(parts) < 2:
        return None
    return parts[1]


def _check(importer: str, imported: str, line: int) -> Violation | None:
    """The rule ``importer`` breaks by importing ``imported``, or None."""
    if importer in ROOT_ENTRY_POINTS or imported in SHARED:
        return None
    if importer in SHARED:
        return Violation(importer, imported, line, "a shared root module imports only other shared root modules")
    source, target = _layer_of(importer), _layer_of(imported)
    if source is None or target is None:
        return Violation(importer, imported, line, f"{importer if source is None else imported} is in no layer")
    if source == target or source in BOTTOM:
        return None
    source_row, target_row = _row(source), _row(target)
    if source_row is None:
        return Violation(importer, imported, line, f"package {source!r} is in no layer of bitdust/layers.py")
    if target in BOTTOM:
        return Violation(importer, imported, line, f"layer {source!r} may not import {target!r}, a bottom package")
    if target_row is None:
        return Violation(importer, imported, line, f"package {target!r} is in no layer of bitdust/layers.py")
    if target_row > source_row:
        return Violation(
            importer,
            imported,
            line,
            f"layer {source!r} (row {source_row + 1}) may not import {target!r} (row {target_row + 1}), a lower layer",
        )
    return None


def violations(root: Path) -> list[Violation]:
    """Every import under ``root`` (the folder holding the ``bitdust`` package) that breaks the order."""
    found: list[Violation] = []
    paths = sorted((root / PACKAGE).rglob("*.py"))
    modules = {module_name(path, root) for path in paths}
    for path in paths:
        module = module_name(path, root)
        if module not in SHARED + ROOT_ENTRY_POINTS and module.count(".") == 1 and path.name != "__init__.py":
            found.append(Violation(module, module, 1, f"{module} is a root module in no layer of bitdust/layers.py"))
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for imported, line in dict.fromkeys(imported_names(tree, module, path.name == "__init__.py", modules)):
            if imported != PACKAGE and not imported.startswith(PACKAGE + "."):
                continue
            problem = _check(module, imported, line)
            if problem is not None:
                found.append(problem)
    return found
