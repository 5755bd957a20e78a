"""``bitdust sandbox run`` (``make run``): up, show, wait, down, against the fake launcher."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

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


@pytest.fixture
def survives_sigterm() -> Iterator[list[int]]:
    """SIGTERM recorded instead of killing pytest, should the code under test not handle it."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: seen.append(signum))
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.timeout(30)  # unhandled, the runner would wait for a signal that already came
def test_sigterm_while_nodes_start_stops_those_already_started(tmp_path, survives_sigterm) -> None:
    launcher = FakeLauncher()
    box = _box(tmp_path, launcher)
    spawn = launcher.spawn

    def spawn_then_sigterm(record):  # a process manager stops us while node-2 is starting
        process = spawn(record)
        if record.name == "node-2":
            signal.raise_signal(signal.SIGTERM)
        return process

    launcher.spawn = spawn_then_sigterm
    lines: list[str] = []

    code = run_foreground(box, up=lambda: box.up(3), echo=lines.append, show=lambda records: None)

    assert survives_sigterm == []  # run_foreground's own handler took it
    assert code == 128 + signal.SIGTERM
    assert [c[1] for c in launcher.calls if c[0] == "spawn"] == ["node-1", "node-2"]
    assert launcher.all_running() == []
    assert all(r.pid is None for r in box.load().nodes)


@pytest.mark.timeout(30)
def test_sigterm_right_after_up_returns_still_stops_everything(tmp_path, survives_sigterm) -> None:
    launcher = FakeLauncher()
    box = _box(tmp_path, launcher)

    def up_then_sigterm() -> None:
        box.up(2)
        signal.raise_signal(signal.SIGTERM)

    code = run_foreground(box, up=up_then_sigterm, echo=lambda line: None, show=lambda records: None)

    assert code == 128 + signal.SIGTERM
    assert launcher.all_running() == []


@pytest.mark.timeout(30)
def test_sigterm_once_up_stops_the_sandbox_like_ctrl_c(tmp_path, survives_sigterm) -> None:
    launcher = FakeLauncher()
    box = _box(tmp_path, launcher)

    def show_then_sigterm(records) -> None:  # the sandbox is up and shown: now the signal comes
        signal.raise_signal(signal.SIGTERM)

    code = run_foreground(box, up=lambda: box.up(2), echo=lambda line: None, show=show_then_sigterm)

    assert code == 0
    assert survives_sigterm == []
    assert launcher.all_running() == []
    # the handler of the caller is back in place
    signal.raise_signal(signal.SIGTERM)
    assert survives_sigterm == [signal.SIGTERM]


@pytest.mark.timeout(30)
def test_a_second_signal_while_stopping_does_not_cut_the_clean_up_short(tmp_path) -> None:
    """``timeout make run``: make and timeout both pass the signal on; the second one arrives while
    the nodes stop and must not reach the caller's handler (which ends the runner with engines
    left running)."""
    launcher = FakeLauncher()
    box = _box(tmp_path, launcher)
    down = box.down

    def down_after_another_signal():
        signal.raise_signal(signal.SIGINT)
        return down()

    box.down = down_after_another_signal  # type: ignore[method-assign]  # the second signal, while stopping

    def show_then_signal(records) -> None:
        signal.raise_signal(signal.SIGINT)

    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: seen.append(signum))
    try:
        code = run_foreground(box, up=lambda: box.up(2), echo=lambda line: None, show=show_then_signal)
    finally:
        signal.signal(signal.SIGINT, previous)

    assert code == 0
    assert seen == []  # both signals went to the runner's handler
    assert launcher.all_running() == []
