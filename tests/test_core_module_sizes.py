"""Issue 12 §5: the modules of the core packages stay under 400 lines (split by responsibility)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dht", "userid", "storage", "crypt", "raid", "sandbox", "testing", "bench")
LIMIT = 400


def test_no_module_of_the_core_packages_reaches_400_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for package in PACKAGES
        for path in sorted((ROOT / "bitdust" / package).rglob("*.py"))
        if not path.name.endswith("_machine.py")  # generated from automats/<name>.md
    }
    assert sizes, "no modules found: the package paths are wrong"
    assert {name: size for name, size in sizes.items() if size >= LIMIT} == {}
