"""The engine process: restart, stop, and one engine per home folder."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bitdust.interface.client import EngineNotRunning, pid_alive, rest_port_of, ws_port_of
from bitdust.main.process.home_lock import read_pid
from bitdust.main.process.paths import HomePaths
from bitdust.sandbox.launcher import engine_pids
from bitdust.sandbox.ports import free_ports
from tests.e2e.helpers import api, ok, poll_until

pytestmark = pytest.mark.e2e


def test_process_restart_gives_a_new_pid_and_the_api_comes_back(own_node) -> None:
    old_pid = ok(own_node, "GET", "process/info/v1")["pid"]

    result = ok(own_node, "GET", "process/restart/v1")
    assert result["pid"] == old_pid

    def replaced() -> dict | None:
        # The old engine may close its API between two calls: not answering is "not yet".
        try:
            status, envelope = api(own_node, "GET", "process/info/v1", _timeout=5)
        except (EngineNotRunning, OSError):
            return None
        if status != 200:
            return None
        info = envelope["result"]
        return info if info["pid"] != old_pid and info["engine_state"] == "READY" else None

    info = poll_until(replaced, 60, what="a new engine answering after process_restart")
    assert info["engine_state"] == "READY"
    poll_until(lambda: not pid_alive(old_pid), 30, what=f"the old engine (pid {old_pid}) to exit")
    assert engine_pids(own_node.home) == [info["pid"]]
    assert read_pid(HomePaths(own_node.home).pid_file) == info["pid"]
    assert (rest_port_of(own_node.home), ws_port_of(own_node.home)) == (own_node.rest_port, own_node.ws_port)


def test_process_stop_ends_the_process_and_removes_the_pid_file(own_node) -> None:
    pid_file = HomePaths(own_node.home).pid_file
    pid = ok(own_node, "GET", "process/info/v1")["pid"]
    assert read_pid(pid_file) == pid

    status, envelope = api(own_node, "GET", "process/stop/v1")
    assert status == 200 and envelope["status"] == "OK", envelope

    poll_until(lambda: not pid_alive(pid), 30, what=f"the engine (pid {pid}) to exit")
    assert not pid_file.exists()
    assert engine_pids(own_node.home) == []
    with pytest.raises((EngineNotRunning, OSError)):
        api(own_node, "GET", "process/health/v1", _timeout=2)


def test_a_second_engine_on_the_same_home_is_refused(node) -> None:
    pid = ok(node, "GET", "process/info/v1")["pid"]
    rest_port, ws_port = free_ports(2, exclude=(node.rest_port, node.ws_port))
    command = [sys.executable, "-m", "bitdust", "run", "--basedir", str(node.home)]
    command += ["--rest-port", str(rest_port), "--ws-port", str(ws_port)]
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        out, err = second.communicate(timeout=60)
    finally:
        if second.poll() is None:  # it must not run; if it does, it must not outlive the test
            second.kill()
            second.communicate()

    assert second.returncode == 1, (out, err)
    assert "already running" in (out + err).decode("utf-8", "replace")
    assert ok(node, "GET", "process/info/v1")["pid"] == pid
    assert engine_pids(node.home) == [pid]
    assert (rest_port_of(node.home), ws_port_of(node.home)) == (node.rest_port, node.ws_port)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bitdust", *args], capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
    )


def _peer_ports_config(home, tcp_port: int, dht_port: int) -> None:
    """Options written as files before the first start, as the sandbox does."""
    for key, value in (
        ("services/tcp-connections/tcp-port", tcp_port),
        ("services/tcp-connections/interface", "127.0.0.1"),
        ("services/entangled-dht/udp-port", dht_port),
        ("services/entangled-dht/interface", "127.0.0.1"),
    ):
        path = home / "config" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{value}\n")


def test_start_on_a_second_home_with_taken_peer_ports_fails_naming_the_ports(tmp_path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    tcp_port, dht_port, *api_ports = free_ports(6)
    for home in (first, second):
        _peer_ports_config(home, tcp_port, dht_port)
    try:
        done = _cli("start", "--basedir", str(first), "--rest-port", str(api_ports[0]), "--ws-port", str(api_ports[1]))
        assert done.returncode == 0, done.stderr

        done = _cli("start", "--basedir", str(second), "--rest-port", str(api_ports[2]), "--ws-port", str(api_ports[3]))

        output = done.stdout + done.stderr
        assert done.returncode == 1, output
        assert "started (pid" not in done.stdout
        assert "service_tcp_connections" in output and str(tcp_port) in output
        assert "service_entangled_dht" in output and str(dht_port) in output
        assert engine_pids(second) == []  # the half-working engine was stopped, not left behind
        assert len(engine_pids(first)) == 1
    finally:
        for home in (second, first):
            if engine_pids(home):
                _cli("stop", "--basedir", str(home))
            for pid in engine_pids(home):  # stop did not work: do not outlive the test
                subprocess.run(["kill", "-9", str(pid)], check=False)
