"""The network_connector machine (see automats/network_connector.md) on a ``task.Clock``.

The check is a fake returning a Deferred per call that the test fires by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.p2p.network_connector import NetworkConnector


class FakeCheck:
    def __init__(self) -> None:
        self.pending: list[defer.Deferred[Any]] = []

    @property
    def calls(self) -> int:
        return len(self.pending)

    def __call__(self) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.pending.append(d)
        return d

    def ok(self, index: int = -1) -> None:
        self.pending[index].callback(None)

    def fail(self, message: str = "port 7771 is not reachable", index: int = -1) -> None:
        self.pending[index].errback(RuntimeError(message))


class Harness:
    def __init__(self) -> None:
        self.clock = task.Clock()
        self.check = FakeCheck()
        self.reports: list[tuple[str, str]] = []
        self.connector = NetworkConnector(
            check=self.check,
            report=lambda state, reason: self.reports.append((state, reason)),
            clock=self.clock,
        )


@pytest.fixture
def h() -> Harness:
    return Harness()


def fired(d: defer.Deferred[Any]) -> list[Any]:
    box: list[Any] = []
    d.addBoth(box.append)
    return box


def test_init_checks_and_a_good_check_connects(h: Harness) -> None:
    assert h.connector.state == "AT_STARTUP"
    h.connector.init()
    assert h.connector.state == "CONNECTING" and h.check.calls == 1
    h.check.ok()
    assert h.connector.state == "CONNECTED"
    assert h.reports == [("CONNECTED", "")]
    assert h.connector.problem is None
    assert h.connector.to_json()["checks"] == 1


def test_failed_check_disconnects_with_the_problem(h: Harness) -> None:
    h.connector.init()
    h.check.fail("port 7771 is not reachable")
    assert h.connector.state == "DISCONNECTED"
    assert h.connector.problem == "port 7771 is not reachable"
    assert h.reports == [("DISCONNECTED", "port 7771 is not reachable")]


def test_check_raising_synchronously_is_a_failed_check(h: Harness) -> None:
    def broken() -> defer.Deferred[Any]:
        raise ValueError("no transports configured")

    h.connector.check = broken
    h.connector.init()
    assert h.connector.state == "DISCONNECTED"
    assert h.connector.problem == "no transports configured"


def test_disconnected_retries_after_30_seconds(h: Harness) -> None:
    h.connector.init()
    h.check.fail()
    h.clock.advance(29.9)
    assert h.connector.state == "DISCONNECTED" and h.check.calls == 1
    h.clock.advance(0.1)
    assert h.connector.state == "CONNECTING" and h.check.calls == 2
    h.check.ok()
    assert h.connector.state == "CONNECTED"


def test_disconnected_keeps_retrying_every_30_seconds(h: Harness) -> None:
    h.connector.init()
    for attempt in range(1, 4):
        assert h.check.calls == attempt
        h.check.fail()
        h.clock.advance(30)
    assert h.check.calls == 4


def test_connected_rechecks_every_10_minutes(h: Harness) -> None:
    h.connector.init()
    h.check.ok()
    h.clock.advance(599)
    assert h.check.calls == 1
    h.clock.advance(1)
    assert h.connector.state == "CONNECTING" and h.check.calls == 2
    h.check.ok()
    h.clock.advance(600)
    assert h.check.calls == 3


def test_connected_machine_has_no_30_second_timer(h: Harness) -> None:
    h.connector.init()
    h.check.ok()
    h.clock.advance(300)
    assert h.check.calls == 1 and h.connector.state == "CONNECTED"


def test_reconnect_while_checking_runs_one_more_check(h: Harness) -> None:
    h.connector.init()
    h.connector.reconnect()
    h.connector.reconnect()
    assert h.check.calls == 1 and h.connector.reconnect_pending
    h.check.ok(0)
    assert h.connector.state == "CONNECTING" and h.check.calls == 2
    assert h.reports == []
    h.check.ok(1)
    assert h.connector.state == "CONNECTED" and h.check.calls == 2
    assert h.reports == [("CONNECTED", "")]


def test_reconnect_while_a_failing_check_runs_checks_again(h: Harness) -> None:
    h.connector.init()
    h.connector.reconnect()
    h.check.fail(index=0)
    assert h.connector.state == "CONNECTING" and h.check.calls == 2
    h.check.fail(index=1)
    assert h.connector.state == "DISCONNECTED"


@pytest.mark.parametrize("settle", ["ok", "fail"])
def test_reconnect_from_a_settled_state_checks_at_once(h: Harness, settle: str) -> None:
    h.connector.init()
    getattr(h.check, settle)()
    h.connector.reconnect()
    assert h.connector.state == "CONNECTING" and h.check.calls == 2


def test_wait_settled_fires_true_once_connected(h: Harness) -> None:
    h.connector.init()
    box = fired(h.connector.wait_settled(10))
    assert box == []
    h.check.ok()
    assert box == [True]
    assert [call.getTime() for call in h.clock.getDelayedCalls()] == [600.0]  # only the re-check timer is left


def test_wait_settled_fires_false_once_disconnected(h: Harness) -> None:
    h.connector.init()
    box = fired(h.connector.wait_settled(10))
    h.check.fail()
    assert box == [False]
    assert [call.getTime() for call in h.clock.getDelayedCalls()] == [30.0]  # only the retry timer is left


def test_wait_settled_times_out_false(h: Harness) -> None:
    h.connector.init()
    box = fired(h.connector.wait_settled(10))
    h.clock.advance(9.9)
    assert box == []
    h.clock.advance(0.1)
    assert box == [False]
    h.check.ok()
    assert box == [False] and h.connector.state == "CONNECTED"


def test_wait_settled_answers_at_once_when_already_settled(h: Harness) -> None:
    h.connector.init()
    h.check.ok()
    assert fired(h.connector.wait_settled(10)) == [True]
    h.connector.reconnect()
    h.check.fail()
    assert fired(h.connector.wait_settled(10)) == [False]


def test_wait_settled_before_init_waits_for_the_first_check(h: Harness) -> None:
    box = fired(h.connector.wait_settled(10))
    h.connector.init()
    h.check.ok()
    assert box == [True]


def test_destroy_settles_waiters_false_and_stops_timers(h: Harness) -> None:
    h.connector.init()
    box = fired(h.connector.wait_settled(10))
    h.connector.destroy()
    assert box == [False]
    h.check.ok()  # a check finishing after destroy is ignored
    assert h.connector.state == "CONNECTING" and h.reports == []
    assert h.clock.getDelayedCalls() == []


def test_destroy_while_disconnected_cancels_the_retry(h: Harness) -> None:
    h.connector.init()
    h.check.fail()
    h.connector.destroy()
    h.clock.advance(60)
    assert h.check.calls == 1
