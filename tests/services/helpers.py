"""A fake engine for testing one service alone: config values, a home folder, a clock, logs."""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer, task
from twisted.logger import Logger

from bitdust.automats.registry import AutomatRegistry
from bitdust.main.events import EventBus
from bitdust.main.service_framework.service import BitDustService
from bitdust.main.service_framework.service_manager import ServiceManager
from bitdust.main.settings.config import Config


def run_now(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    """``run_blocking`` done on the spot: the tests decide the order, not a thread pool."""
    return defer.maybeDeferred(fn, *args, **kwargs)


def fake_engine(tmp_path: Path, reactor: Any, **attributes: Any) -> types.SimpleNamespace:
    """The attributes of the engine a service reads, with ``config`` filled in by :func:`managed`."""
    return types.SimpleNamespace(
        reactor=reactor,
        paths=types.SimpleNamespace(sub=lambda name: tmp_path / name),
        run_blocking=run_now,
        logger=lambda namespace: Logger(namespace=namespace, observer=lambda event: None),
        log=Logger(namespace="test", observer=lambda event: None),
        **attributes,
    )


def managed(service: BitDustService, tmp_path: Path, clock: task.Clock) -> ServiceManager:
    """A service manager holding ``service`` and do-nothing stand-ins for what it depends on.

    The engine's config is the manager's.
    """
    config = Config(tmp_path / "config")
    config.load()
    service.engine.config = config
    manager = ServiceManager(config=config, events=EventBus(clock), automats=AutomatRegistry(strict=True), clock=clock)
    for dependency in service.depends_on:
        manager.add(type("Stand-in", (BitDustService,), {"name": dependency})(service.engine))
    manager.add(service)
    return manager


def settle(d: defer.Deferred[Any], clock: task.Clock) -> Any:
    """The result (or Failure) of ``d`` once the clock's zero-delay calls have run."""
    results: list[Any] = []
    d.addBoth(results.append)
    for _ in range(100):
        if results:
            break
        clock.advance(0)
    assert results, "deferred did not fire"
    return results[0]
