"""The documented non-editable install works on its own: diagrams, and the systemd unit's command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, UserInstall

pytestmark = pytest.mark.e2e  # builds a wheel and a venv: out of `make unit`, part of `make test`


def _run(command: list[str], install: UserInstall, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, cwd=install.home, env=install.env(**env)
    )


def test_the_installed_package_is_not_the_checkout(user_install: UserInstall) -> None:
    result = _run(
        [str(user_install.venv / "bin" / "python"), "-c", "import bitdust; print(bitdust.__file__)"], user_install
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(user_install.venv)


def test_the_installed_command_draws_a_state_machine(user_install: UserInstall) -> None:
    result = _run([str(user_install.command), "automats", "diagram", "initializer"], user_install)
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().startswith("digraph")
    assert "AT_STARTUP" in result.stdout


def test_every_machine_source_is_shipped(user_install: UserInstall) -> None:
    result = _run(
        [
            str(user_install.venv / "bin" / "python"),
            "-c",
            "from bitdust.interface.api.automats import sources_dir; "
            "print(sources_dir()); print(*sorted(p.name for p in sources_dir().glob('*.md')))",
        ],
        user_install,
    )
    assert result.returncode == 0, result.stderr
    where, names = result.stdout.splitlines()
    assert Path(where).is_relative_to(user_install.venv)
    assert names.split() == sorted(p.name for p in (ROOT / "automats").glob("*.md"))


def test_systemd_unit_verifies_against_the_documented_install(user_install: UserInstall, tmp_path: Path) -> None:
    """``make install-user`` puts the command where ``deploy/bitdust.service`` runs it."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    result = _run(
        ["systemd-analyze", "verify", "--user", str(ROOT / "deploy" / "bitdust.service")],
        user_install,
        XDG_RUNTIME_DIR=str(runtime),
    )
    assert result.returncode == 0, result.stderr
    # unknown keys and similar mistakes are warnings only: refuse them too
    assert "bitdust.service" not in result.stderr, result.stderr
