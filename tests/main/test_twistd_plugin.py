"""``twistd -n bitdust --basedir DIR`` runs a real engine process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bitdust.interface.client import ApiClient, EngineNotRunning

pytestmark = pytest.mark.e2e


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
