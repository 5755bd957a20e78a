"""service_identity_propagate: its health check is a timer child that lives while the service is ON."""

from __future__ import annotations

from pathlib import Path

from twisted.internet import defer, task

from bitdust.main.service_framework.service_children import IntervalService
from bitdust.services.service_identity_propagate import IdentityPropagateService
from tests.services.helpers import fake_engine, managed, settle


def test_the_health_check_runs_every_interval_while_on_and_never_after(tmp_path: Path) -> None:
    clock = task.Clock()
    service = IdentityPropagateService(fake_engine(tmp_path, clock))
    manager = managed(service, tmp_path, clock)
    service.engine.config.set("services/identity-propagate/health-check-interval-seconds", 30)
    checks: list[float] = []
    service.check = lambda: checks.append(clock.seconds())  # type: ignore[method-assign]
    settle(manager.start("service_identity_propagate"), clock)
    [child] = list(service)
    assert isinstance(child, IntervalService) and child.running
    clock.advance(29)
    assert checks == []  # the first check one interval after the start, as before
    clock.advance(1)
    clock.advance(30)
    assert checks == [30, 60]
    settle(manager.stop("service_identity_propagate"), clock)
    clock.advance(300)
    assert checks == [30, 60] and list(service) == []


def test_stopping_waits_for_the_check_under_way(tmp_path: Path) -> None:
    clock = task.Clock()
    service = IdentityPropagateService(fake_engine(tmp_path, clock))
    manager = managed(service, tmp_path, clock)
    under_way: defer.Deferred[None] = defer.Deferred()
    service.check = lambda: under_way  # type: ignore[method-assign]
    settle(manager.start("service_identity_propagate"), clock)
    clock.advance(300)
    stopping = manager.stop("service_identity_propagate")
    clock.advance(0)
    assert manager.state("service_identity_propagate") == "STOPPING"
    under_way.callback(None)
    assert settle(stopping, clock)["state"] == "OFF"
