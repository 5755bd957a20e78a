"""bitdust/interface passes mypy (issue 12 §7): Twisted's web and protocol types, not ``Any``.

mypy checks the whole package with the project's configuration (pyproject.toml), because the
interface's types come from the layers below it; only errors in bitdust/interface fail this test,
so each package's owner answers for its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "bitdust/interface/"


def test_the_interface_package_passes_mypy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the [tool.mypy] configuration and its ``files`` are read from here
    stdout, stderr, _status = mypy_api.run(["--no-pretty", "--show-error-codes"])
    assert "error:" not in stderr, stderr
    ours = [line for line in stdout.splitlines() if line.startswith(PACKAGE) and ": error:" in line]
    assert ours == []
