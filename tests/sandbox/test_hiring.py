"""``make run``'s wait for the customer's family: polling suppliers_list against a fake API."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bitdust.sandbox.family import plan_family
from bitdust.sandbox.foreground import curl_lines, run_foreground
from bitdust.sandbox.hiring import Hiring, HiringResult, wait_hired
from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from tests.sandbox.fakes import FakeClock, FakeLauncher

CUSTOMER = NodeRecord(name="node-1", role="customer", home=Path("/nowhere"), rest_port=1, ws_port=2)


def _rows(*states: str | None) -> dict[str, Any]:
    return {
        "status": "OK",
        "result": [{"position": i, "supplier_state": s, "idurl": f"http://x/{i}.xml"} for i, s in enumerate(states)],
    }


class Answers:
    """A fake ``fetch``: each call gives the next answer (the last one repeats)."""

    def __init__(self, *answers: tuple[int, dict[str, Any]] | Exception) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []

    def __call__(self, record: NodeRecord, path: str) -> tuple[int, dict[str, Any]]:
        self.paths.append(path)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _wait(answers: Answers, wanted: int = 4, timeout: float = 10.0, **kwargs: Any) -> HiringResult:
    clock = FakeClock()
    return wait_hired(CUSTOMER, wanted, timeout=timeout, fetch=answers, clock=clock, sleep=clock.sleep, **kwargs)


def test_waits_until_the_whole_family_is_connected() -> None:
    answers = Answers(
        ConnectionRefusedError("not yet"),
        (503, {"status": "ERROR", "errors": ["service_customer is starting"]}),
        (200, _rows("CONNECTED", "REQUEST", None, "CONNECTED")),
        (200, _rows("CONNECTED", "CONNECTED", "CONNECTED", "CONNECTED")),
    )
    result = _wait(answers)
    assert result == HiringResult(Hiring.HIRED, 4, 4)
    assert answers.paths == ["supplier/list/v1"] * 4


def test_an_engine_without_suppliers_list_is_reported_at_once() -> None:
    answers = Answers((404, {"status": "ERROR", "errors": ["unknown route: /supplier/list/v1"]}))
    assert _wait(answers).outcome is Hiring.NOT_AVAILABLE
    assert len(answers.paths) == 1


def test_a_not_found_from_the_method_itself_keeps_waiting() -> None:
    answers = Answers((404, {"status": "ERROR", "errors": ["no family yet"]}), (200, _rows("CONNECTED", "CONNECTED")))
    assert _wait(answers, wanted=2).outcome is Hiring.HIRED


def test_the_deadline_ends_the_wait_with_the_count_and_the_last_error() -> None:
    answers = Answers((200, _rows("CONNECTED", "DISCONNECTED")), (500, {"status": "ERROR", "errors": ["boom"]}))
    result = _wait(answers, wanted=4, timeout=3.0)
    assert (result.outcome, result.connected, result.wanted, result.detail) == (Hiring.TIMED_OUT, 1, 4, "boom")


def test_a_malformed_result_counts_nobody() -> None:
    odd_rows = {"status": "OK", "result": [{"supplier_state": "CONNECTED"}, {"supplier_state": 7}, "CONNECTED"]}
    answers = Answers((200, {"status": "OK", "result": {"rows": 4}}), (200, odd_rows))
    result = _wait(answers, wanted=2, timeout=2.0)
    assert (result.outcome, result.connected) == (Hiring.TIMED_OUT, 1)


def test_a_stop_ends_the_wait() -> None:
    answers = Answers((200, _rows()))
    result = _wait(answers, timeout=1000.0, stopped=lambda: True)
    assert result.outcome is Hiring.TIMED_OUT
    assert len(answers.paths) == 1


def _run(tmp_path, outcome: HiringResult) -> tuple[list[str], list[tuple[str, int]]]:
    launcher = FakeLauncher()
    clock = FakeClock()
    box = Sandbox(tmp_path / "net", launcher=launcher, clock=clock, sleep=clock.sleep)
    lines: list[str] = []
    waited: list[tuple[str, int]] = []
    stop = threading.Event()

    def wait(record: NodeRecord, wanted: int, stopped: Any) -> HiringResult:
        waited.append((record.name, wanted))
        lines.append("<waited>")
        return outcome

    def echo(line: str) -> None:
        lines.append(line)
        if "Ctrl-C stops" in line:  # everything shown: Ctrl-C
            stop.set()

    run_foreground(
        box,
        up=lambda: box.up(1, family=plan_family(4)),
        echo=echo,
        show=lambda records: None,
        stop_event=stop,
        wait=wait,
    )
    assert launcher.all_running() == []
    return lines, waited


def test_run_says_ready_only_after_the_customer_hired_its_family(tmp_path) -> None:
    lines, waited = _run(tmp_path, HiringResult(Hiring.HIRED, 4, 4))
    assert waited == [("node-1", 4)]
    ready = next(i for i, line in enumerate(lines) if line.strip().startswith("ready:"))
    assert lines.index("<waited>") < ready
    assert "node-1 hired its 4 suppliers (all CONNECTED)" in lines
    assert any("/supplier/list/v1" in line for line in lines[ready:])


def test_run_without_hiring_says_so_and_is_ready_at_once(tmp_path) -> None:
    lines, _ = _run(tmp_path, HiringResult(Hiring.NOT_AVAILABLE, 0, 4))
    assert any(line.startswith("hiring suppliers is not available yet") for line in lines)
    assert any(line.strip().startswith("ready:") for line in lines)


def test_run_after_the_deadline_says_how_many_are_hired(tmp_path) -> None:
    lines, _ = _run(tmp_path, HiringResult(Hiring.TIMED_OUT, 3, 4, "slow"))
    assert any("has 3 of 4 suppliers CONNECTED" in line and "(slow)" in line for line in lines)
    assert not any(line.strip().startswith("ready:") for line in lines)
    assert any(line.strip().startswith("not ready yet: your node is node-1") for line in lines)


def test_a_plain_node_has_no_suppliers_line_and_no_wait(tmp_path) -> None:
    launcher = FakeLauncher()
    clock = FakeClock()
    box = Sandbox(tmp_path / "net", launcher=launcher, clock=clock, sleep=clock.sleep)
    stop = threading.Event()
    stop.set()
    lines: list[str] = []

    def never(*_args: Any) -> HiringResult:
        raise AssertionError("a plain node hires nobody")

    run_foreground(box, up=lambda: box.up(1), echo=lines.append, show=lambda r: None, stop_event=stop, wait=never)
    assert any(line.strip().startswith("ready:") for line in lines)
    assert not any("supplier/list" in line for line in curl_lines(box.load().nodes[0]))


def test_ctrl_c_while_waiting_for_the_family_stops_everything_without_ready(tmp_path) -> None:
    launcher = FakeLauncher()
    clock = FakeClock()
    box = Sandbox(tmp_path / "net", launcher=launcher, clock=clock, sleep=clock.sleep)
    stop = threading.Event()
    lines: list[str] = []

    def interrupted(_record: NodeRecord, _wanted: int, stopped: Any) -> HiringResult:
        stop.set()
        assert stopped()
        return HiringResult(Hiring.TIMED_OUT, 0, 4)

    code = run_foreground(
        box,
        up=lambda: box.up(1, family=plan_family(4)),
        echo=lines.append,
        show=lambda r: None,
        stop_event=stop,
        wait=interrupted,
    )
    assert code == 0
    assert not any(line.strip().startswith("ready:") for line in lines)
    assert launcher.all_running() == []
