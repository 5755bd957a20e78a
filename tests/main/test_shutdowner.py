"""The shutdown machine (automats/shutdowner.md) alone, with a recording fake engine on a task.Clock."""

from __future__ import annotations

import pytest
from twisted.internet import task

from bitdust.main.lifecycle.shutdowner import Shutdowner
from tests.main.machine_fakes import FakeEngine


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


@pytest.fixture
def shutdowner(engine: FakeEngine, clock: task.Clock) -> Shutdowner:
    machine = Shutdowner(engine, clock=clock)
    yield machine
    machine.destroy()


def test_stop_stops_services_then_interfaces_then_releases_home(engine: FakeEngine, shutdowner: Shutdowner) -> None:
    # Edges RUNNING -> SERVICES_STOP on stop, SERVICES_STOP -> INTERFACES_STOP on services-stopped,
    # INTERFACES_STOP -> FINISHED on interfaces-stopped.
    shutdowner.stop(restart=False)
    assert shutdowner.state == "SERVICES_STOP" and shutdowner.restart is False
    assert engine.names() == ["services.stop_all"]
    engine.pending.succeed("services.stop_all")
    assert shutdowner.state == "INTERFACES_STOP"
    assert engine.names() == ["services.stop_all", "stop_interfaces"]
    engine.pending.succeed("stop_interfaces")
    assert shutdowner.state == "FINISHED"
    assert engine.calls[2:] == [("release_local", ()), ("finish", (("restart", False),))]


def test_restart_remembers_the_mode_and_finishes_with_a_restart(engine: FakeEngine, shutdowner: Shutdowner) -> None:
    # Edge RUNNING -> SERVICES_STOP on stop, asked to restart.
    shutdowner.stop(restart=True)
    assert shutdowner.state == "SERVICES_STOP" and shutdowner.restart is True
    assert engine.names() == ["services.stop_all"]
    engine.pending.succeed("services.stop_all")
    engine.pending.succeed("stop_interfaces")
    assert shutdowner.state == "FINISHED"
    assert engine.calls[-1] == ("finish", (("restart", True),))


def test_services_that_never_stop_are_given_up_after_30_seconds(
    engine: FakeEngine, shutdowner: Shutdowner, clock: task.Clock
) -> None:
    # Edge SERVICES_STOP -> INTERFACES_STOP on timer-30sec.
    shutdowner.stop(restart=False)
    clock.advance(29.9)
    assert shutdowner.state == "SERVICES_STOP"
    clock.advance(0.1)
    assert shutdowner.state == "INTERFACES_STOP"
    assert engine.names() == ["services.stop_all", "stop_interfaces"]
    assert shutdowner.history[-1].event == "timer-30sec"


def test_interfaces_that_never_stop_are_given_up_after_30_seconds(
    engine: FakeEngine, shutdowner: Shutdowner, clock: task.Clock
) -> None:
    # Edge INTERFACES_STOP -> FINISHED on timer-30sec: the home is released and the reactor stopped anyway.
    shutdowner.stop(restart=False)
    engine.pending.succeed("services.stop_all")
    clock.advance(29.9)
    assert shutdowner.state == "INTERFACES_STOP"
    clock.advance(0.1)
    assert shutdowner.state == "FINISHED"
    assert engine.names() == ["services.stop_all", "stop_interfaces", "release_local", "finish"]
    assert shutdowner.history[-1].event == "timer-30sec"
    assert clock.getDelayedCalls() == []
