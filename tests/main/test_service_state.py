"""The per-service machine (automats/service.md) alone: a recording fake service, manager and event bus.

Each test puts the machine in one state by the events the manager would send, then takes one
edge and asserts the state reached and what the actions did (the service's start/stop called,
the reason set, the events sent).
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.main.service_framework.service_state import ServiceState

NAME = "service_gadget"
MISSING = "service_network"


class FakeService:
    def __init__(self) -> None:
        self.name = NAME
        self.installable = True
        self.calls: list[str] = []
        self.pending: list[defer.Deferred[Any]] = []

    def installed(self) -> bool:
        return self.installable

    def start(self) -> defer.Deferred[Any]:
        return self._call("start")

    def stop(self) -> defer.Deferred[Any]:
        return self._call("stop")

    # What the machine calls (BitDustService wraps start/stop with its children the same way).
    def start_running(self) -> defer.Deferred[Any]:
        return self.start()

    def stop_running(self) -> defer.Deferred[Any]:
        return self.stop()

    def _call(self, name: str) -> defer.Deferred[Any]:
        self.calls.append(name)
        d: defer.Deferred[Any] = defer.Deferred()
        self.pending.append(d)
        return d

    def succeed(self) -> None:
        self.pending.pop(0).callback(None)

    def fail(self, message: str) -> None:
        self.pending.pop(0).errback(RuntimeError(message))


class FakeManager:
    def __init__(self) -> None:
        self.missing: list[str] = []

    def dependencies_not_on(self, name: str) -> list[str]:
        assert name == NAME
        return list(self.missing)


class FakeEvents:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, event: str, data: dict[str, Any]) -> None:
        self.sent.append((event, data))


class Harness:
    def __init__(self) -> None:
        self.service = FakeService()
        self.manager = FakeManager()
        self.events = FakeEvents()
        self.machine = ServiceState(self.service, manager=self.manager, events=self.events, clock=task.Clock())

    def can_run(self, installed: bool = True, missing: list[str] | None = None) -> None:
        self.service.installable = installed
        self.manager.missing = list(missing or [])

    def put_in(self, state: str) -> None:
        """Drive the machine from OFF to ``state`` the way the manager would, then forget the calls."""
        m = self.machine
        if state == "NOT_INSTALLED":
            self.can_run(installed=False)
            m.start()
        elif state == "DEPENDS_OFF":
            self.can_run(missing=[MISSING])
            m.start()
        elif state in ("STARTING", "ON", "FAILED", "STOPPING"):
            self.can_run()
            m.start()
            if state == "ON" or state == "STOPPING":
                self.service.succeed()
            elif state == "FAILED":
                self.service.fail("no port")
            if state == "STOPPING":
                m.stop()
        assert m.state == state
        self.service.calls.clear()
        self.events.sent.clear()
        self.can_run()


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    yield harness
    harness.machine.destroy()


RESTING = ["OFF", "NOT_INSTALLED", "DEPENDS_OFF", "FAILED"]


@pytest.mark.parametrize("state", RESTING)
def test_start_of_a_service_that_cannot_run_here_is_not_installed(h: Harness, state: str) -> None:
    # Edges OFF/NOT_INSTALLED/DEPENDS_OFF/FAILED -> NOT_INSTALLED on start [!is_installed].
    h.put_in(state)
    h.can_run(installed=False)
    h.machine.start()
    assert h.machine.state == "NOT_INSTALLED"
    assert h.machine.reason == f"{NAME} is not installed on this node"
    assert h.service.calls == [] and h.events.sent == []


@pytest.mark.parametrize("state", RESTING)
def test_start_with_a_dependency_off_waits_in_depends_off(h: Harness, state: str) -> None:
    # Edges OFF/NOT_INSTALLED/DEPENDS_OFF/FAILED -> DEPENDS_OFF on start [is_installed && !is_depends_on].
    h.put_in(state)
    h.can_run(missing=[MISSING])
    h.machine.start()
    assert h.machine.state == "DEPENDS_OFF"
    assert h.machine.reason == f"{NAME} depends on {MISSING}, which is not running"
    assert h.service.calls == [] and h.events.sent == []


@pytest.mark.parametrize("state", RESTING)
def test_start_of_a_runnable_service_starts_it(h: Harness, state: str) -> None:
    # Edges OFF/NOT_INSTALLED/DEPENDS_OFF/FAILED -> STARTING on start [is_installed && is_depends_on].
    h.put_in(state)
    h.machine.start()
    assert h.machine.state == "STARTING"
    assert h.machine.reason is None
    assert h.service.calls == ["start"] and h.events.sent == []


@pytest.mark.parametrize("state", RESTING)
def test_stop_of_a_service_that_is_not_running_reports_it_stopped(h: Harness, state: str) -> None:
    # Edges OFF/NOT_INSTALLED/DEPENDS_OFF/FAILED -> OFF on stop.
    h.put_in(state)
    h.machine.stop()
    assert h.machine.state == "OFF"
    assert h.machine.reason is None
    assert h.service.calls == []
    assert h.events.sent == [("service-stopped", {"name": NAME})]


@pytest.mark.parametrize("state", ["OFF", "DEPENDS_OFF", "FAILED"])
def test_recheck_when_the_service_can_no_longer_run_is_not_installed(h: Harness, state: str) -> None:
    # Edges OFF/DEPENDS_OFF/FAILED -> NOT_INSTALLED on recheck [!is_installed].
    h.put_in(state)
    h.can_run(installed=False)
    h.machine.recheck()
    assert h.machine.state == "NOT_INSTALLED"
    assert h.machine.reason == f"{NAME} is not installed on this node"
    assert h.service.calls == [] and h.events.sent == []


def test_recheck_when_the_service_became_installable_is_off(h: Harness) -> None:
    # Edge NOT_INSTALLED -> OFF on recheck [is_installed].
    h.put_in("NOT_INSTALLED")
    h.machine.recheck()
    assert h.machine.state == "OFF"
    assert h.machine.reason is None
    assert h.service.calls == [] and h.events.sent == []


def test_a_started_service_is_on(h: Harness) -> None:
    # Edge STARTING -> ON on started.
    h.put_in("STARTING")
    h.machine.started()
    assert h.machine.state == "ON"
    assert h.events.sent == [("service-started", {"name": NAME})]


def test_a_start_that_fails_leaves_the_service_failed_with_the_reason(h: Harness) -> None:
    # Edge STARTING -> FAILED on start-failed.
    h.put_in("STARTING")
    h.service.fail("port 9000 is taken")
    assert h.machine.state == "FAILED"
    assert h.machine.reason == f"{NAME} failed to start: port 9000 is taken"
    assert h.events.sent == []


def test_start_of_a_running_service_reports_it_started_again(h: Harness) -> None:
    # Edge ON -> ON on start: the caller waiting for ON hears it, and nothing is started twice.
    h.put_in("ON")
    h.machine.start()
    assert h.machine.state == "ON"
    assert h.service.calls == []
    assert h.events.sent == [("service-started", {"name": NAME})]


def test_stop_of_a_running_service_stops_it(h: Harness) -> None:
    # Edge ON -> STOPPING on stop.
    h.put_in("ON")
    h.machine.stop()
    assert h.machine.state == "STOPPING"
    assert h.service.calls == ["stop"] and h.events.sent == []


def test_a_stopped_service_is_off(h: Harness) -> None:
    # Edge STOPPING -> OFF on stopped.
    h.put_in("STOPPING")
    h.service.succeed()
    assert h.machine.state == "OFF"
    assert h.events.sent == [("service-stopped", {"name": NAME})]


def test_a_stop_that_fails_is_off_and_says_why(h: Harness) -> None:
    # Edge STOPPING -> OFF on stop-failed.
    h.put_in("STOPPING")
    h.service.fail("socket would not close")
    assert h.machine.state == "OFF"
    assert h.machine.reason == f"{NAME} failed to stop cleanly: socket would not close"
    assert h.events.sent == [("service-stopped", {"name": NAME, "error": "socket would not close"})]
