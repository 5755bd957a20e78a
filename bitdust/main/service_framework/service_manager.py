"""Starts and stops the engine's services in dependency order, one operation at a time.

Operations are serialized through one lock so that a ``service_stop`` cannot interleave with
a ``service_start`` of a dependency; each service's own machine (``ServiceState``) records
where it is. Enabled flags live in the config (``services/<name>/enabled``).

The manager is the root of the engine's Twisted service tree: every service is its child (and
the service's ports and timers are the service's children). The dependencies between services
are a graph, not a tree (``service_p2p_hookups`` needs the gateway, the transport and identity
propagation; the gateway is needed by two services), and a ``MultiService`` starts its children
at once, in the order they were added, without waiting for one to finish starting. So the tree
is flat under the manager, and the order and the waiting are the manager's, one service machine
at a time.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from twisted.application.service import IService, MultiService, Service
from twisted.internet import defer
from twisted.logger import Logger

from bitdust.main.errors import Conflict, InvalidInput, NotFound
from bitdust.main.logs import log_failure
from bitdust.main.service_framework import service_graph
from bitdust.main.service_framework.service import BitDustService
from bitdust.main.service_framework.service_state import ServiceState
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Bool

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from bitdust.automats.registry import AutomatRegistry
    from bitdust.main.events import EventBus
    from bitdust.main.settings.config import Config

EngineT = TypeVar("EngineT")

#: Builds one service for an engine; generic in the engine class (the node's services need ``NodeEngine``).
ServiceFactory = Callable[[EngineT], BitDustService]
#: An ``inlineCallbacks`` generator of the manager: it waits on Deferreds of any kind (what it gets
#: back is read where it is used) and returns a ``_T``.
_T = TypeVar("_T")
_Steps = Generator["defer.Deferred[Any]", Any, _T]


class ServiceInfo(TypedDict, total=False):
    """One service as ``services_list``/``service_info`` answer it (``configs`` only when asked)."""

    index: int
    id: str
    name: str
    state: str
    enabled: bool
    installed: bool
    config_path: str
    depends: builtins.list[str]
    missing_depends: builtins.list[str]
    root_distance: int
    reason: str | None
    description: str
    configs: builtins.list[dict[str, Any]]


class ServiceError(Conflict):
    """A service could not be started or stopped; the message names the service at fault."""


class ServiceManager(MultiService):
    """Owns the services of one engine (its Twisted children) and their state machines."""

    def __init__(
        self,
        *,
        config: Config,
        events: EventBus,
        automats: AutomatRegistry,
        clock: IReactorTime,
        log: Logger | None = None,
    ) -> None:
        super().__init__()
        self.setName("services")
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
        service.children_log = self._log
        service.setServiceParent(self)
        self._machines[name] = ServiceState(
            service, manager=self, events=self._events, clock=self._clock, registry=self._automats, log=self._log
        )

    def add_all(self, factories: Iterable[ServiceFactory[EngineT]], engine: EngineT) -> None:
        """Add every service; their options' files are read in one blocking job of the config,
        and no operation (``start_enabled`` first) runs before it is done."""
        with self._config.registering():
            for factory in factories:
                self.add(factory(engine))
        settled = self._config.settled()
        self._lock.run(lambda: settled)

    # -- twisted.application ------------------------------------------------------------------

    def addService(self, service: IService) -> None:  # noqa: N802 - Twisted hook
        """Hold ``service`` as a child without starting it: its machine starts it, in dependency order.

        ``MultiService`` would start a child added to a running parent at once, past the
        service's machine and its dependencies; services come in through :meth:`add`.
        """
        if not isinstance(service, BitDustService) or self._services.get(service.name) is not service:
            raise ValueError("services are added to the manager with ServiceManager.add")
        self.namedServices[service.name] = service
        self.services.append(service)

    def privilegedStartService(self) -> None:  # noqa: N802 - Twisted hook
        """Nothing to do before privileges are dropped: services open their ports when they start."""
        Service.privilegedStartService(self)

    def startService(self) -> None:  # noqa: N802 - Twisted hook
        """As a child of a Twisted service tree: start the enabled services (:meth:`start_enabled`)."""
        Service.startService(self)
        self.start_enabled().addErrback(log_failure(self._log, "starting the enabled services failed"))

    def stopService(self) -> defer.Deferred[None]:  # noqa: N802 - Twisted hook
        """Stop every running service, dependents first (:meth:`stop_all`)."""
        Service.stopService(self)
        return self.stop_all()

    # -- queries ------------------------------------------------------------------------------

    def names(self) -> builtins.list[str]:
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

    def dependencies_not_on(self, name: str) -> builtins.list[str]:
        """Direct dependencies of ``name`` that are not ON (unknown ones included)."""
        return [dep for dep in self.get(name).depends_on if not self.is_on(dep)]

    def info(self, name: str, *, with_configs: bool = False) -> ServiceInfo:
        service = self.get(name)
        machine = self._machines[name]
        depends = self._depends()
        result: ServiceInfo = {
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

    def list(self, *, with_configs: bool = False) -> builtins.list[ServiceInfo]:
        return [self.info(name, with_configs=with_configs) for name in self.names()]

    # -- operations ---------------------------------------------------------------------------

    def start_enabled(self, within: str | None = None) -> defer.Deferred[builtins.list[str]]:
        """Start every enabled service whose dependencies run; returns the names now ON.

        ``within``: only that service and the services that depend on it (``network_reconnect``
        brings up the network services this way, leaving unrelated ones as they are).
        """
        if within is not None:
            self.get(within)
        return self._lock.run(self._start_enabled, within)

    def recheck_installed(self) -> builtins.list[str]:
        """Ask every stopped service's "installed" check again; returns the services whose state changed.

        Called when what the checks depend on changed (an identity was created, recovered or
        erased): a service that can run now leaves NOT_INSTALLED for OFF, ready to be started,
        and one that cannot any more is NOT_INSTALLED. Nothing is started or stopped here.
        """
        changed = []
        for name in self.names():
            machine = self._machines[name]
            before = machine.state
            machine.recheck()
            if machine.state != before:
                changed.append(name)
        return changed

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

    def start(self, name: str) -> defer.Deferred[ServiceInfo]:
        """``service_start``: start ``name`` and its stopped, enabled dependencies; enable it; then
        start the enabled services that depend on it and were stopped (because it was)."""
        self.get(name)
        return self._lock.run(self._start_one, name)

    def stop(self, name: str) -> defer.Deferred[ServiceInfo]:
        """``service_stop``: stop what depends on ``name`` (left enabled), then ``name`` (disabled)."""
        self.get(name)
        return self._lock.run(self._stop_one, name)

    def restart(self, name: str) -> defer.Deferred[ServiceInfo]:
        """``service_restart``: stop and start ``name`` and the dependents that were running."""
        if not self.is_enabled(name):
            raise InvalidInput(f"service {name} is not enabled; use service_start")
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
    def _run(self, name: str, event: Literal["start", "stop"]) -> _Steps[str]:
        machine = self._machines[name]
        if event == "start":
            machine.start()
        else:
            machine.stop()
        state = yield machine.wait_settled()
        return state

    @defer.inlineCallbacks
    def _start_enabled(self, within: str | None = None) -> _Steps[builtins.list[str]]:
        started = []
        names = self.names()
        if within is not None:
            wanted = {within, *service_graph.all_dependents(self._depends(), within)}
            names = [name for name in names if name in wanted]
        for name in names:
            if not self.is_enabled(name) or self.is_on(name):
                continue
            state = yield self._run(name, "start")
            if state == "ON":
                started.append(name)
            else:
                self._log.warn("service {name} not started: {reason}", name=name, reason=self._machines[name].reason)
        return started

    @defer.inlineCallbacks
    def _stop_many(self, names: builtins.list[str]) -> _Steps[None]:
        for name in names:
            if self._machines[name].state == "ON":
                yield self._run(name, "stop")

    @defer.inlineCallbacks
    def _start_one(self, name: str) -> _Steps[ServiceInfo]:
        depends = self._depends()
        missing = service_graph.missing_dependencies(depends).get(name)
        if missing:
            raise ServiceError(f"cannot start {name}: it depends on {', '.join(missing)}, which does not exist")
        problem = yield self._start_with_dependencies(name)
        if problem is not None:
            raise ServiceError(problem)
        self._config.set(self.get(name).enabled_key(), True)
        yield self._start_dependents(name)
        return self.info(name)

    @defer.inlineCallbacks
    def _start_with_dependencies(self, name: str) -> _Steps[str | None]:
        """Start the stopped, enabled dependencies of ``name``, then ``name``; fires with why not, or None."""
        for dep in service_graph.all_dependencies(self._depends(), name):
            if self.is_on(dep):
                continue
            if not self.is_enabled(dep):
                return f"cannot start {name}: dependency {dep} is disabled; start {dep} first"
            state = yield self._run(dep, "start")
            if state != "ON":
                reason = self._machines[dep].reason or state
                return f"cannot start {name}: dependency {dep} did not start ({reason})"
        state = yield self._run(name, "start")
        if state != "ON":
            return self._machines[name].reason or f"{name} did not start ({state})"
        return None

    @defer.inlineCallbacks
    def _start_dependents(self, name: str) -> _Steps[builtins.list[str]]:
        """The seed's ``service_start``: services needing ``name`` that are enabled but stopped start too.

        Best effort: ``name`` is running either way, and a dependent that cannot start says why
        in its own state and reason.
        """
        started = []
        for dependent in reversed(service_graph.all_dependents(self._depends(), name)):
            if self.is_on(dependent) or not self.is_enabled(dependent):
                continue
            problem = yield self._start_with_dependencies(dependent)
            if problem is None:
                started.append(dependent)
            else:
                self._log.warn("dependent {name} not started: {reason}", name=dependent, reason=problem)
        return started

    @defer.inlineCallbacks
    def _stop_one(self, name: str) -> _Steps[ServiceInfo]:
        yield self._stop_many(service_graph.all_dependents(self._depends(), name) + [name])
        self._config.set(self.get(name).enabled_key(), False)
        return self.info(name)

    @defer.inlineCallbacks
    def _restart_one(self, name: str) -> _Steps[ServiceInfo]:
        dependents = service_graph.all_dependents(self._depends(), name)
        was_on = [d for d in dependents if self.is_on(d)]
        yield self._stop_many(dependents + [name])
        state = yield self._run(name, "start")
        if state != "ON":
            raise ServiceError(self._machines[name].reason or f"{name} did not start ({state})")
        for dep in reversed(was_on):
            yield self._run(dep, "start")
        return self.info(name)
