"""A non-editable install of this checkout, made the documented way (``make install-user``).

Building and installing take a while (a wheel, a venv), so the install is made once per session
and shared. It needs no network: the wheel is built with the project venv's setuptools and
installed without dependencies; the new venv then finds the dependencies in the project venv
through a ``.pth`` line (which adds that folder only, not the editable install of the checkout).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: what a fresh clone would not have: the developer's venv, git data, build leftovers
_NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


@attrs.frozen
class UserInstall:
    home: Path  # stands for the user's $HOME
    venv: Path
    command: Path  # $HOME/.local/bin/bitdust

    def env(self, **extra: str) -> dict[str, str]:
        """An environment that knows nothing of the checkout."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BITDUST", "VIRTUAL_ENV"))}
        env.update(HOME=str(self.home), **extra)
        return env


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, **kwargs)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def user_install(tmp_path_factory: pytest.TempPathFactory) -> UserInstall:
    base = tmp_path_factory.mktemp("user-install")
    source = base / "clone"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES, symlinks=True)
    dist = base / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--wheel-dir", str(dist), str(source)]
    )
    (wheel,) = dist.glob("bitdust-*.whl")
    home = base / "home"
    prefix = home / ".local"
    _run(
        ["make", "-C", str(source), "install-user", f"PYTHON={sys.executable}", f"USER_PREFIX={prefix}"]
        + [f"USER_SOURCE={wheel}", "USER_PIP_FLAGS=--no-deps --no-index"]
    )
    venv = prefix / "share" / "bitdust" / "venv"
    purelib = _run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
    ).stdout.strip()
    (Path(purelib) / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    shutil.rmtree(source)  # from here on nothing can read the checkout's copy
    return UserInstall(home=home, venv=venv, command=prefix / "bin" / "bitdust")
