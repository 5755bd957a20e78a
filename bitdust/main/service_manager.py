"""Starts and stops the engine's services in dependency order, one operation at a time.

Operations are serialized through one lock so that a ``service_stop`` cannot interleave with
a ``service_start`` of a dependency; each service's own machine (``ServiceState``) records
where it is. Enabled flags live in the config (``services/<name>/enabled``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from bitdust.main import service_graph
from bitdust.main.config_options import Option
from bitdust.main.config_types import Bool
from bitdust.main.errors import BadRequest, BitDustError, NotFound
from bitdust.main.service import BitDustService
from bitdust.main.service_state import ServiceState

ServiceFactory = Callable[[Any], BitDustService]


class ServiceError(BitDustError):
    """A service could not be started or stopped; the message names the service at fault."""

    http_code = 409


class ServiceManager:
    """Owns the services of one engine and their state machines."""

    def __init__(self, *, config: Any, events: Any, automats: Any, clock: Any, log: Logger | None = None) -> None:
        self._config = config
        self._events = events
        self._automats = automats
        self._clock = clock
        self._log = log or Logger()
        self._services: dict[str, BitDustService] = {}
        self._machines: dict[str, ServiceState] = {}
        self._lock = defer.DeferredLock()

    # -- registration -------------------------------------------------------------------------

    def add(self, service: BitDustService) -> None:
        """Register a service, its enable flag and its options; refuses cycles and duplicates."""
        name = service.name
        if not name.startswith("service_") or name in self._services:
            raise ValueError(f"bad or duplicate service name {name!r}")
        depends = self._depends()
        depends[name] = tuple(service.depends_on)
        service_graph.start_order(depends)  # raises DependencyCycle
        self._config.register(
            Option(
                key=service.enabled_key(),
                type=Bool(),
                default=service.enabled_by_default,
                description=f"start {name} with the engine"
                + (f": {service.description}" if service.description else ""),
            )
        )
        for option in service.options():
            self._config.register(option)
        self._services[name] = service
        self._machines[name] = ServiceState(
            service, manager=self, events=self._events, clock=self._clock, registry=self._automats, log=self._log
        )

    def add_all(self, factories: Iterable[ServiceFactory], engine: Any) -> None:
        for factory in factories:
            self.add(factory(engine))

    # -- queries ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        return service_graph.start_order(self._depends())

    def get(self, name: str) -> BitDustService:
        service = self._services.get(name)
        if service is None:
            raise NotFound(f"service {name} not found")
        return service

    def state(self, name: str) -> str:
        self.get(name)
        return self._machines[name].state

    def is_on(self, name: str) -> bool:
        return name in self._machines and self._machines[name].state == "ON"

    def is_enabled(self, name: str) -> bool:
        return bool(self._config.get(self.get(name).enabled_key()))

    def dependencies_not_on(self, name: str) -> list[str]:
        """Direct dependencies of ``name`` that are not ON (unknown ones included)."""
        return [dep for dep in self.get(name).depends_on if not self.is_on(dep)]

    def info(self, name: str, *, with_configs: bool = False) -> dict[str, Any]:
        service = self.get(name)
        machine = self._machines[name]
        depends = self._depends()
        result: dict[str, Any] = {
            "index": machine.index,
            "id": machine.id,
            "name": name,
            "state": machine.state,
            "enabled": self.is_enabled(name),
            "installed": self._installed(service),
            "config_path": service.enabled_key(),
            "depends": list(service.depends_on),
            "missing_depends": service_graph.missing_dependencies(depends).get(name, []),
            "root_distance": service_graph.root_distance(depends, name),
            "reason": machine.reason,
            "description": service.description,
        }
        if with_configs:
            prefix = service.config_prefix()
            result["configs"] = [self._config.info(key) for key in self._config.keys() if key.startswith(prefix + "/")]
        return result

    def list(self, *, with_configs: bool = False) -> list[dict[str, Any]]:
        return [self.info(name, with_configs=with_configs) for name in self.names()]

    # -- operations ---------------------------------------------------------------------------

    def start_enabled(self) -> defer.Deferred[list[str]]:
        """Start every enabled service whose dependencies run; returns the names now ON."""
        return self._lock.run(self._start_enabled)

    def stop_all(self) -> defer.Deferred[None]:
        """Stop every running service, dependents before what they depend on."""
        return self._lock.run(self._stop_many, list(reversed(self.names())))

    def suspend(self, name: str) -> defer.Deferred[None]:
        """Stop ``name`` and what depends on it, leaving every enable flag as it is.

        For the engine's own needs (an identity erased under the network services), so that the
        next ``start_enabled`` brings them back; ``stop`` is the user's "turn it off".
        """
        self.get(name)
        return self._lock.run(self._stop_many, service_graph.all_dependents(self._depends(), name) + [name])

    def start(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """``service_start``: start ``name`` and its stopped, enabled dependencies; enable it."""
        self.get(name)
        return self._lock.run(self._start_one, name)

    def stop(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """``service_stop``: stop what depends on ``name`` (left enabled), then ``name`` (disabled)."""
        self.get(name)
        return self._lock.run(self._stop_one, name)

    def restart(self, name: str) -> defer.Deferred[dict[str, Any]]:
        """``service_restart``: stop and start ``name`` and the dependents that were running."""
        if not self.is_enabled(name):
            raise BadRequest(f"service {name} is not enabled; use service_start")
        return self._lock.run(self._restart_one, name)

    # -- internals ----------------------------------------------------------------------------

    def _depends(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(s.depends_on) for name, s in self._services.items()}

    def _installed(self, service: BitDustService) -> bool:
        try:
            return bool(service.installed())
        except Exception:
            self._log.failure("installed() of {name} failed", name=service.name)
            return False

    @defer.inlineCallbacks
    def _run(self, name: str, event: str) -> Any:
        machine = self._machines[name]
        machine.automat(event)
        state = yield machine.wait_settled()
        return state

    @defer.inlineCallbacks
    def _start_enabled(self) -> Any:
        started = []
        for name in self.names():
            if not self.is_enabled(name) or self.is_on(name):
                continue
            state = yield self._run(name, "start")
            if state == "ON":
                started.append(name)
            else:
                self._log.warn("service {name} not started: {reason}", name=name, reason=self._machines[name].reason)
        return started

    @defer.inlineCallbacks
    def _stop_many(self, names: list[str]) -> Any:
        for name in names:
            if self._machines[name].state == "ON":
                yield self._run(name, "stop")

    @defer.inlineCallbacks
    def _start_one(self, name: str) -> Any:
        depends = self._depends()
        missing = service_graph.missing_dependencies(depends).get(name)
        if missing:
            raise ServiceError(f"cannot start {name}: it depends on {', '.join(missing)}, which does not exist")
        for dep in service_graph.all_dependencies(depends, name):
            if self.is_on(dep):
                continue
            if not self.is_enabled(dep):
                raise ServiceError(f"cannot start {name}: dependency {dep} is disabled; start {dep} first")
            state = yield self._run(dep, "start")
            if state != "ON":
                reason = self._machines[dep].reason or state
                raise ServiceError(f"cannot start {name}: dependency {dep} did not start ({reason})")
        state = yield self._run(name, "start")
        if state != "ON":
            raise ServiceError(self._machines[name].reason or f"{name} did not start ({state})")
        self._config.set(self.get(name).enabled_key(), True)
        return self.info(name)

    @defer.inlineCallbacks
    def _stop_one(self, name: str) -> Any:
        yield self._stop_many(service_graph.all_dependents(self._depends(), name) + [name])
        self._config.set(self.get(name).enabled_key(), False)
        return self.info(name)

    @defer.inlineCallbacks
    def _restart_one(self, name: str) -> Any:
        dependents = service_graph.all_dependents(self._depends(), name)
        was_on = [d for d in dependents if self.is_on(d)]
        yield self._stop_many(dependents + [name])
        state = yield self._run(name, "start")
        if state != "ON":
            raise ServiceError(self._machines[name].reason or f"{name} did not start ({state})")
        for dep in reversed(was_on):
            yield self._run(dep, "start")
        return self.info(name)
