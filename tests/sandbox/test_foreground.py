"""``bitdust sandbox run`` (``make run``): up, show, wait, down, against the fake launcher."""

from __future__ import annotations

import threading

from bitdust.sandbox.foreground import curl_lines, run_foreground
from bitdust.sandbox.network import Sandbox
from tests.sandbox.fakes import FakeClock, FakeLauncher


def _box(tmp_path, launcher: FakeLauncher) -> Sandbox:
    clock = FakeClock()
    return Sandbox(tmp_path / "net", launcher=launcher, clock=clock, sleep=clock.sleep)


def test_run_starts_shows_the_first_node_and_stops_what_it_started(tmp_path) -> None:
    launcher = FakeLauncher()
    box = _box(tmp_path, launcher)
    lines: list[str] = []
    shown: list[list[str]] = []
    stop = threading.Event()
    stop.set()  # Ctrl-C right away

    code = run_foreground(
        box,
        up=lambda: box.up(2),
        echo=lines.append,
        show=lambda records: shown.append([r.name for r in records]),
        stop_event=stop,
    )

    assert code == 0
    assert shown == [["node-1", "node-2"]]
    node_1 = box.load().nodes[0]
    assert any(f"127.0.0.1:{node_1.rest_port}/process/health/v1" in line for line in lines)
    assert any(str(node_1.home / "metadata" / "apisecret") in line for line in lines)
    assert launcher.all_running() == []


def test_run_attaches_to_a_running_sandbox_and_leaves_it_running(tmp_path) -> None:
    launcher = FakeLauncher()
    box = _box(tmp_path, launcher)
    box.up(1)
    lines: list[str] = []
    stop = threading.Event()
    stop.set()

    run_foreground(box, up=lambda: box.up(1), echo=lines.append, show=lambda records: None, stop_event=stop)

    assert any("already running" in line for line in lines)
    assert len(launcher.all_running()) == 1


def test_curl_lines_use_the_nodes_secret_file_and_port(tmp_path) -> None:
    launcher = FakeLauncher()
    box = _box(tmp_path, launcher)
    record = box.up(1).nodes[0]
    lines = curl_lines(record)
    assert lines[0] == f"SECRET=$(cat {record.home / 'metadata' / 'apisecret'})"
    assert all(f"127.0.0.1:{record.rest_port}/" in line for line in lines[1:])
