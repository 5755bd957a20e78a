"""``twistd -n bitdust --basedir DIR`` runs a real engine process, and twistd finds the plugin in
every kind of install: the wheel (tests/deploy), and editable installs in each setuptools mode."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from bitdust.interface.client import ApiClient, EngineNotRunning

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
#: what a fresh clone would not have: the developer's venv, git data, build leftovers
_NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_twistd_runs_the_engine(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rest, ws = free_port(), free_port()
    twistd = Path(sys.executable).with_name("twistd")
    process = subprocess.Popen(
        [
            str(twistd),
            "-n",
            "--pidfile=",
            "bitdust",
            "--basedir",
            str(home),
            "--rest-port",
            str(rest),
            "--ws-port",
            str(ws),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        envelope = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with ApiClient(home, timeout=5) as client:
                    status, envelope = client.request("GET", "process/health/v1")
                if status == 200:
                    break
            except (EngineNotRunning, OSError):
                pass
            time.sleep(0.1)
        assert envelope is not None and envelope["status"] == "OK", (
            process.stdout.read().decode() if process.poll() is not None else "no answer"
        )
        assert int((home / "metadata" / "processid").read_text()) == process.pid
        process.send_signal(signal.SIGTERM)
        # twistd re-raises the terminating signal after an orderly stop, so -SIGTERM is a clean exit
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
        output = process.stdout.read().decode()
        assert "engine stopped" in output
        assert not (home / "metadata" / "processid").exists()
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env, **kwargs)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


# The Makefile installs with editable_mode=compat; a developer's plain `pip install -e .` gets the
# "lenient" mode, whose import hook puts no folder on sys.path, and twistd finds plugins only by
# scanning sys.path folders for twisted/plugins/. Each mode must leave twistd able to find ours.
@pytest.mark.parametrize("mode", [None, "strict", "compat"])
def test_an_editable_install_lets_twistd_find_the_plugin(tmp_path: Path, mode: str | None) -> None:
    source = tmp_path / "clone"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES, symlinks=True)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    # the dependencies come from the project venv (no network); that folder holds no bitdust itself
    (purelib / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    settings = [] if mode is None else ["--config-settings", f"editable_mode={mode}"]
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps"]
        + ["--no-build-isolation", "--no-index", *settings, "-e", str(source)],
        cwd=tmp_path,
    )
    found = _run(
        [
            str(python),
            "-c",
            "from twisted.application.service import IServiceMaker; from twisted.plugin import getPlugins; "
            "import bitdust; print(bitdust.__file__); "
            "print(*sorted(p.tapname for p in getPlugins(IServiceMaker)))",
        ],
        cwd=tmp_path,
    )
    where, names = found.stdout.splitlines()
    assert Path(where).is_relative_to(source)  # the clone's code, not the checkout's
    assert "bitdust" in names.split()
    # and twistd itself accepts the command, with the engine's own options
    usage = _run(
        [
            str(python),
            "-c",
            "import sys; sys.argv = ['twistd', 'bitdust', '--help']; from twisted.scripts.twistd import run; run()",
        ],
        cwd=tmp_path,
    )
    assert "--basedir" in usage.stdout
