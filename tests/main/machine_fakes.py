"""Recording fakes of what the engine's life-cycle machines call, for testing each machine alone.

Every call lands in ``calls`` as ``(name, args)`` in order; work that the engine would do
asynchronously returns a Deferred the test fires (or leaves pending) by hand, so a test decides
exactly which event reaches the machine next.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.logger import Logger


class Pending:
    """Hands out Deferreds by name and keeps them, so a test can fire the one it wants."""

    def __init__(self) -> None:
        self.deferreds: dict[str, list[defer.Deferred[Any]]] = {}

    def new(self, name: str) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.deferreds.setdefault(name, []).append(d)
        return d

    def succeed(self, name: str, result: Any = None) -> None:
        self.deferreds[name].pop(0).callback(result)

    def fail(self, name: str, error: Exception) -> None:
        self.deferreds[name].pop(0).errback(error)


class FakeServices:
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def start_enabled(self) -> defer.Deferred[Any]:
        self.engine.calls.append(("services.start_enabled", ()))
        return self.engine.pending.new("services.start_enabled")

    def stop_all(self) -> defer.Deferred[Any]:
        self.engine.calls.append(("services.stop_all", ()))
        return self.engine.pending.new("services.stop_all")


class FakeShutdowner:
    """Stands in for the shutdown machine when the initializer is tested alone."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def stop(self, *, restart: bool) -> None:
        """Recorded as ``shutdowner.restart`` when asked to restart, else as ``shutdowner.stop``."""
        self.engine.calls.append((f"shutdowner.{'restart' if restart else 'stop'}", (("restart", restart),)))


class FakeEngine:
    """The engine as the initializer and the shutdowner see it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.pending = Pending()
        self.log = Logger(namespace="tests.main.machine_fakes")
        self.services = FakeServices(self)
        self.shutdowner = FakeShutdowner(self)
        self.startup_failures: list[Any] = []

    def names(self) -> list[str]:
        return [name for name, _args in self.calls]

    def run_blocking(self, work: Any) -> defer.Deferred[Any]:
        self.calls.append(("run_blocking", (getattr(work, "__name__", repr(work)),)))
        return self.pending.new("run_blocking")

    def init_local(self) -> None:
        self.calls.append(("init_local", ()))

    def after_local(self) -> None:
        self.calls.append(("after_local", ()))

    def start_interfaces(self) -> defer.Deferred[Any]:
        self.calls.append(("start_interfaces", ()))
        return self.pending.new("start_interfaces")

    def announce_ready(self) -> None:
        self.calls.append(("announce_ready", ()))

    def report_startup_failure(self, failure: Any) -> None:
        self.calls.append(("report_startup_failure", ()))
        self.startup_failures.append(failure)

    def stop_interfaces(self) -> defer.Deferred[Any]:
        self.calls.append(("stop_interfaces", ()))
        return self.pending.new("stop_interfaces")

    def release_local(self) -> None:
        self.calls.append(("release_local", ()))

    def finish(self, restart: bool = False) -> None:
        self.calls.append(("finish", (("restart", restart),)))
