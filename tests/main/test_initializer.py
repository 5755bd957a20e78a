"""The startup machine (automats/initializer.md) alone, with a recording fake engine on a task.Clock."""

from __future__ import annotations

import pytest
from twisted.internet import task

from bitdust.main.lifecycle.initializer import Initializer
from tests.main.machine_fakes import FakeEngine

STOP = ("shutdowner.stop", (("restart", False),))


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def initializer(engine: FakeEngine) -> Initializer:
    machine = Initializer(engine, clock=task.Clock())
    yield machine
    machine.destroy()


def to_local(initializer: Initializer) -> None:
    initializer.run()
    assert initializer.state == "LOCAL"


def to_services(engine: FakeEngine, initializer: Initializer) -> None:
    to_local(initializer)
    engine.pending.succeed("run_blocking")
    assert initializer.state == "SERVICES"


def to_interfaces(engine: FakeEngine, initializer: Initializer) -> None:
    to_services(engine, initializer)
    engine.pending.succeed("services.start_enabled")
    assert initializer.state == "INTERFACES"


def test_startup_runs_local_then_services_then_interfaces(engine: FakeEngine, initializer: Initializer) -> None:
    # Edges AT_STARTUP -> LOCAL on run, LOCAL -> SERVICES on init-local-done,
    # SERVICES -> INTERFACES on services-started, INTERFACES -> READY on interfaces-started.
    to_interfaces(engine, initializer)
    engine.pending.succeed("start_interfaces")
    assert initializer.state == "READY"
    assert engine.calls == [
        ("run_blocking", ("init_local",)),
        ("after_local", ()),
        ("services.start_enabled", ()),
        ("start_interfaces", ()),
        ("announce_ready", ()),
    ]


def test_shutdown_before_startup_goes_straight_to_the_shutdowner(engine: FakeEngine, initializer: Initializer) -> None:
    # Edge AT_STARTUP -> STOPPING on shutdown.
    initializer.shutdown(restart=False)
    assert initializer.state == "STOPPING"
    assert engine.calls == [STOP]


def test_shutdown_while_the_home_is_prepared(engine: FakeEngine, initializer: Initializer) -> None:
    # Edge LOCAL -> STOPPING on shutdown; a restart request is passed on as one.
    to_local(initializer)
    initializer.shutdown(restart=True)
    assert initializer.state == "STOPPING"
    assert engine.calls[-1] == ("shutdowner.restart", (("restart", True),))
    engine.pending.succeed("run_blocking")  # the late init-local-done changes nothing
    assert initializer.state == "STOPPING" and "after_local" not in engine.names()


def test_shutdown_while_services_start(engine: FakeEngine, initializer: Initializer) -> None:
    # Edge SERVICES -> STOPPING on shutdown.
    to_services(engine, initializer)
    initializer.shutdown(restart=False)
    assert initializer.state == "STOPPING"
    assert engine.calls[-1] == STOP
    engine.pending.succeed("services.start_enabled")
    assert initializer.state == "STOPPING" and "start_interfaces" not in engine.names()


def test_shutdown_while_interfaces_start(engine: FakeEngine, initializer: Initializer) -> None:
    # Edge INTERFACES -> STOPPING on shutdown.
    to_interfaces(engine, initializer)
    initializer.shutdown(restart=False)
    assert initializer.state == "STOPPING"
    assert engine.calls[-1] == STOP
    engine.pending.succeed("start_interfaces")
    assert initializer.state == "STOPPING" and "announce_ready" not in engine.names()


def test_shutdown_when_ready(engine: FakeEngine, initializer: Initializer) -> None:
    # Edge READY -> STOPPING on shutdown.
    to_interfaces(engine, initializer)
    engine.pending.succeed("start_interfaces")
    initializer.shutdown(restart=False)
    assert initializer.state == "STOPPING"
    assert engine.calls[-1] == STOP


def test_a_failed_home_reports_and_shuts_down(engine: FakeEngine, initializer: Initializer) -> None:
    # Edge LOCAL -> FAILED on init-local-failed.
    to_local(initializer)
    engine.pending.fail("run_blocking", OSError("home is locked"))
    assert initializer.state == "FAILED"
    assert engine.names()[-2:] == ["report_startup_failure", "shutdowner.stop"]
    assert initializer.failure.getErrorMessage() == "home is locked"


def test_failed_interfaces_report_and_shut_down(engine: FakeEngine, initializer: Initializer) -> None:
    # Edge INTERFACES -> FAILED on interfaces-failed.
    to_interfaces(engine, initializer)
    engine.pending.fail("start_interfaces", OSError("port 8180 is taken"))
    assert initializer.state == "FAILED"
    assert engine.names()[-2:] == ["report_startup_failure", "shutdowner.stop"]
    assert "announce_ready" not in engine.names()
    assert engine.startup_failures[0].getErrorMessage() == "port 8180 is taken"
