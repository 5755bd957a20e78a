"""The ``bitdust`` command against a real background engine, as a user types it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bitdust(*args: str, home: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BITDUST_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "bitdust", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture
def home(tmp_path: Path):
    home = tmp_path / "home"
    yield home
    bitdust("stop", home=home)  # whatever happened, leave nothing running


def test_cli_round_trip(home: Path) -> None:
    assert bitdust("status", home=home).returncode == 3
    assert bitdust("api", "process_health", home=home).returncode == 3

    rest, ws = free_port(), free_port()
    started = bitdust("start", "--rest-port", str(rest), "--ws-port", str(ws), home=home)
    assert started.returncode == 0, started.stderr
    assert "started" in started.stdout
    again = bitdust("start", home=home)
    assert again.returncode == 0 and "already running" in again.stdout

    status = bitdust("status", "--json", home=home)
    assert status.returncode == 0
    info = json.loads(status.stdout)
    assert info["running"] is True and info["info"]["api"]["rest_port"] == rest

    health = bitdust("api", "process_health", home=home)
    assert health.returncode == 0 and json.loads(health.stdout)["status"] == "OK"

    bad = bitdust("api", "config_set", "key=logs/debug-level", "value=abc", home=home)
    assert bad.returncode == 1 and "logs/debug-level" in json.loads(bad.stdout)["errors"][0]
    assert bitdust("api", "no_such_method", home=home).returncode == 2
    assert bitdust("api", "service_info", home=home).returncode == 2  # path parameter missing
    missing = bitdust("api", "service_info", "service_name=service_nope", home=home)
    assert missing.returncode == 1

    assert bitdust("config", "set", "logs/debug-level", "7", home=home).returncode == 0
    got = bitdust("config", "get", "logs/debug-level", home=home)
    assert json.loads(got.stdout)[0]["value"] == 7
    listing = bitdust("config", "list", home=home)
    assert "logs/debug-level = 7" in listing.stdout
    assert (home / "config" / "logs" / "debug-level").read_text().strip() == "7"

    assert bitdust("services", home=home).returncode == 0
    machines = bitdust("automats", home=home)
    assert "initializer" in machines.stdout and "READY" in machines.stdout
    live = bitdust("automats", "diagram", "initializer", "--live", home=home)
    assert live.returncode == 0 and "digraph" in live.stdout
    svg = bitdust("automats", "diagram", "initializer", "--format", "svg", home=home)
    if svg.returncode != 0:
        assert "graphviz" in svg.stderr.lower()

    stopped = bitdust("stop", home=home)
    assert stopped.returncode == 0, stopped.stderr
    assert not (home / "metadata" / "processid").exists()
    assert bitdust("status", home=home).returncode == 3
    assert bitdust("stop", home=home).returncode == 3


def test_offline_diagram_and_help(tmp_path: Path) -> None:
    result = bitdust("automats", "diagram", "shutdowner", home=tmp_path)
    assert result.returncode == 0 and "SERVICES_STOP" in result.stdout
    unknown = bitdust("automats", "diagram", "nope", home=tmp_path)
    assert unknown.returncode == 1 and "nope" in unknown.stderr
    helped = bitdust("help", home=tmp_path)
    assert helped.returncode == 0 and "sandbox" in helped.stdout and "start" in helped.stdout
