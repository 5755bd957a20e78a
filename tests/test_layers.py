"""The layer order of ``bitdust/layers.py`` holds over every module: a violation fails the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from bitdust import layers

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_breaks_the_layer_order() -> None:
    found = layers.violations(ROOT)
    assert not found, "layer order broken:\n" + "\n".join(map(str, found))


def test_every_package_has_a_layer() -> None:
    packages = {path.parent.name for path in (ROOT / "bitdust").glob("*/__init__.py")}
    placed = {name for row in layers.LAYERS for name in row} | set(layers.BOTTOM)
    assert packages - placed == set()


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A fake ``bitdust`` package under ``tmp_path`` holding ``files`` (path -> source)."""
    for name, source in {"bitdust/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(source)
    return tmp_path


def test_an_upper_layer_importing_a_lower_one_is_named(tmp_path: Path) -> None:
    source = "import os\n\n\ndef f():\n    from bitdust.raid import eccmap\n"
    root = _tree(tmp_path, {"bitdust/dht/records.py": source, "bitdust/raid/eccmap.py": ""})
    (found,) = layers.violations(root)
    assert (found.importer, found.imported, found.line) == ("bitdust.dht.records", "bitdust.raid.eccmap", 5)
    assert found.rule == "layer 'dht' (row 6) may not import 'raid' (row 9), a lower layer"
    assert str(found).startswith("bitdust.dht.records (line 5) imports bitdust.raid.eccmap: layer 'dht'")


@pytest.mark.parametrize(
    ("source", "imported"),
    [
        ("from bitdust.services.catalog import x\n", "bitdust.services.catalog"),
        ("from ..interface import servers\n", "bitdust.interface.servers"),
        ("from bitdust import node\n", "bitdust.node"),
        ("import importlib\nimportlib.import_module('bitdust.interface.rest')\n", "bitdust.interface.rest"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bitdust.sandbox.state\n",
            "bitdust.sandbox.state",
        ),
    ],
)
def test_the_core_importing_the_bottom_is_caught_in_every_spelling(tmp_path: Path, source: str, imported: str) -> None:
    root = _tree(
        tmp_path,
        {
            "bitdust/main/engine.py": source,
            "bitdust/services/catalog.py": "",
            "bitdust/interface/servers.py": "",
            "bitdust/interface/rest.py": "",
            "bitdust/node/__init__.py": "",
            "bitdust/sandbox/state.py": "",
        },
    )
    (found,) = layers.violations(root)
    assert (found.importer, found.imported) == ("bitdust.main.engine", imported)
    assert found.rule.startswith("layer 'main' may not import")


def test_what_the_order_allows_passes(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bitdust/errors.py": "",
            "bitdust/automats/runtime.py": "from bitdust.errors import BitDustError\nfrom bitdust import __version__\n",
            "bitdust/dht/records.py": "from bitdust.main import errors\nfrom . import fields\nfrom .fields import x\n",
            "bitdust/dht/fields.py": "",
            "bitdust/main/errors.py": "",
            "bitdust/services/svc.py": "import bitdust.node\nfrom bitdust.interface import rest\n",
            "bitdust/interface/rest.py": "from bitdust.services import svc\n",
            "bitdust/node/__init__.py": "from bitdust.dht import records\n",
            "bitdust/__main__.py": "from bitdust.interface import rest\n",
        },
    )
    assert layers.violations(root) == []


def test_a_module_outside_every_layer_is_refused(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bitdust/helpers.py": "",
            "bitdust/newpkg/thing.py": "",
            "bitdust/main/engine.py": "from bitdust.newpkg import thing\n",
            "bitdust/errors.py": "from bitdust.main import engine\n",
        },
    )
    rules = {(found.importer, found.rule) for found in layers.violations(root)}
    assert rules == {
        ("bitdust.helpers", "bitdust.helpers is a root module in no layer of bitdust/layers.py"),
        ("bitdust.main.engine", "package 'newpkg' is in no layer of bitdust/layers.py"),
        ("bitdust.errors", "a shared root module imports only other shared root modules"),
    }
