"""The Engine: everything one node is, hanging off one object (no module-level state).

The engine is a Twisted ``Service`` so that ``twistd`` and the CLI run it the same way.
Its life cycle is driven by two state machines, :class:`Initializer` and :class:`Shutdowner`;
the methods here are the steps they call.

The core does not choose its parts, services or local API: ``create_engine`` in
:mod:`bitdust.node.composition` does, and passes them in, so that ``main`` imports nothing from
the layers below it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Self, TypeVar

from twisted.application.service import Service
from twisted.internet import defer, error, threads
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust import __version__
from bitdust.automats.registry import AutomatRegistry, strict_from_environment
from bitdust.automats.runtime import Automat
from bitdust.main.collaborators import LocalApi, NodePart
from bitdust.main.events import EventBus
from bitdust.main.lifecycle.initializer import Initializer
from bitdust.main.lifecycle.shutdowner import Shutdowner
from bitdust.main.logs import EngineLog
from bitdust.main.process.api_secret import ensure_secret
from bitdust.main.process.home_lock import HomeLock
from bitdust.main.process.paths import HomePaths
from bitdust.main.service_framework.service import BitDustService
from bitdust.main.service_framework.service_manager import ServiceManager
from bitdust.main.settings.config import Config
from bitdust.main.settings.network_config import NetworkConfig, load_network_config

REST_PORT_KEY = "interface/api/rest-http-port"
WS_PORT_KEY = "interface/api/web-socket-port"


def declared_slots(cls: type) -> frozenset[str]:
    """The attribute names ``cls`` and its bases declare: annotations and class attributes.

    Class attributes count so that Twisted's ``Service`` fields (``name``, ``parent``,
    ``running``), properties and methods (a test replacing ``run_blocking``) stay settable.
    Not cached: an engine sets a few dozen attributes in its life, and a cache would be state
    outside the engine.
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(vars(klass).get("__annotations__", {}))
        names.update(vars(klass))
    return frozenset(names)


_T = TypeVar("_T")


class UndeclaredSlot(AttributeError):
    """Something tried to fasten an attribute onto an engine that its class does not declare."""


class Engine(Service):
    """One BitDust node: paths, config, events, machines, services and the local API.

    Every attribute an engine holds is declared below (a subclass may declare more, as
    :class:`bitdust.node.engine.NodeEngine` does for the parts that live below the core):
    :meth:`__setattr__` refuses any other, so a part or a service cannot invent one at run time
    and a reader finds the whole object graph here.
    """

    paths: HomePaths
    reactor: Any  # the running reactor: no one zope interface names all it provides (time, threads, TCP, UDP)
    terminal: bool
    owns_reactor: bool
    version: str
    pid: int
    logging: EngineLog
    log: Logger
    lock: HomeLock
    automats: AutomatRegistry
    config: Config
    events: EventBus
    services: ServiceManager
    #: the composition's node parts, in the order they attach and load
    parts: tuple[NodePart[Self], ...]
    api: LocalApi | None
    secret: str | None
    started_at: float | None
    startup_error: str | None
    restart_requested: bool
    ready: defer.Deferred[Engine]
    finished: defer.Deferred[bool]
    initializer: Initializer
    shutdowner: Shutdowner
    _rest_port_override: int | None
    _ws_port_override: int | None
    _wait_lock: float
    _service_factories: tuple[Callable[[Self], BitDustService], ...]
    _local_api: Callable[[Self], LocalApi]

    def __init__(
        self,
        home: Path,
        *,
        reactor: Any,
        rest_port: int | None = None,
        ws_port: int | None = None,
        terminal: bool = False,
        owns_reactor: bool = False,
        wait_lock: float = 0.0,
        service_factories: Iterable[Callable[[Self], BitDustService]],
        node_parts: Iterable[NodePart[Self]],
        local_api: Callable[[Self], LocalApi],
        strict_automats: bool | None = None,
    ) -> None:
        """Build a stopped engine; the composition (services, parts, local API) is required.

        Nothing here defaults to "the real node": :mod:`bitdust.node.composition` is the one place that
        knows it, so an engine built elsewhere says explicitly what it is made of. The factories
        and parts are typed by the engine class they are given to (``Self``): the node's services
        and parts need :class:`bitdust.node.engine.NodeEngine`, and a bare core cannot take them.
        """
        super().__init__()
        self.setName("bitdust")
        self.paths = HomePaths(Path(home))
        self.reactor = reactor
        self.terminal = terminal
        self.owns_reactor = owns_reactor
        self.version = __version__
        self.pid = os.getpid()
        self.logging = EngineLog()
        self.log = Logger(namespace="bitdust.engine", observer=self.logging.publisher)
        self._rest_port_override = rest_port
        self._ws_port_override = ws_port
        self._wait_lock = wait_lock
        self._service_factories = tuple(service_factories)
        self._local_api = local_api
        self.lock = HomeLock(self.paths.lock_file, self.paths.pid_file)
        if strict_automats is None:  # an unexpected machine event raises in tests, is logged in production
            strict_automats = strict_from_environment()
        self.automats = AutomatRegistry(strict=strict_automats, log=self.logger("bitdust.automats"))
        # Services register their options on the reactor thread; their files are read and written
        # through run_blocking, in a worker thread.
        self.config = Config(self.paths.config, log=self.logger("bitdust.config"), run_blocking=self.run_blocking)
        self.events = EventBus(reactor, log=self.logger("bitdust.events"))
        self.services = ServiceManager(
            config=self.config,
            events=self.events,
            automats=self.automats,
            clock=reactor,
            log=self.logger("bitdust.services"),
        )
        # Parts of the node that live below the engine core (keys, identity, ...) attach
        # themselves here: ``part.attach(engine)`` now, ``part.load(engine)`` in the worker thread
        # during startup. The core knows them only through these two calls.
        self.parts = tuple(node_parts)
        for part in self.parts:
            part.attach(self)
        self.api = None
        self.secret = None
        self.started_at = None
        self.startup_error = None
        self.restart_requested = False
        self.ready = defer.Deferred()
        self.finished = defer.Deferred()
        self.initializer = Initializer(self, clock=reactor, registry=self.automats, log=self.logger("bitdust.automats"))
        self.shutdowner = Shutdowner(self, clock=reactor, registry=self.automats, log=self.logger("bitdust.automats"))
        self.shutdowner.add_state_changed_callback(self._on_shutdowner_changed)

    def __setattr__(self, name: str, value: object) -> None:
        if name not in declared_slots(type(self)):
            raise UndeclaredSlot(
                f"{type(self).__name__} declares no attribute {name!r}: declare it on the class"
                " (the engine's object graph is written down, never invented at run time)"
            )
        super().__setattr__(name, value)

    def logger(self, namespace: str) -> Logger:
        """A logger of this engine (not the process-global one)."""
        return Logger(namespace=namespace, observer=self.logging.publisher)

    # -- twisted.application ------------------------------------------------------------------

    def startService(self) -> None:  # noqa: N802 - Twisted hook
        super().startService()
        self.initializer.run()

    def stopService(self) -> defer.Deferred[bool]:  # noqa: N802 - Twisted hook
        super().stopService()
        return self.stop()

    # -- control ------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """READY while serving; the shutdowner's state once stopping has begun."""
        if self.shutdowner.state != "RUNNING":
            return "STOPPING" if self.shutdowner.state != "FINISHED" else "STOPPED"
        return self.initializer.state

    def stop(self, restart: bool = False) -> defer.Deferred[bool]:
        """Begin an orderly shutdown (or restart); the Deferred fires, with ``restart``, when it is complete."""
        if self.shutdowner.state == "RUNNING" and self.initializer.state not in ("STOPPING", "FAILED"):
            self.initializer.shutdown(restart=restart)
        elif self.shutdowner.state == "RUNNING":
            self.shutdowner.stop(restart=restart)
        waiter: defer.Deferred[bool] = defer.Deferred()
        if self.finished.called:
            waiter.callback(self.restart_requested)
        else:

            def relay(result: bool) -> bool:
                waiter.callback(result)
                return result

            self.finished.addCallback(relay)
        return waiter

    def run_blocking(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> defer.Deferred[_T]:
        """Run blocking work (disk, crypto, subprocesses) in the reactor's thread pool."""
        return threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), fn, *args, **kwargs)

    def network_config(self) -> NetworkConfig:
        """Blocking (reads a small file): the identity servers and DHT seeds of our network."""
        configured = self.config.get("services/network/network-config")
        path = Path(configured).expanduser() if configured else self.paths.metadata / "networkconfig.json"
        return load_network_config(path)

    def api_ports(self) -> tuple[int, int]:
        """The REST and WebSocket ports to listen on: the command line's if given, else the config's.

        Both options are ``Port`` options with a default, so the config always has a number.
        """
        rest: int = self._rest_port_override if self._rest_port_override is not None else self.config.get(REST_PORT_KEY)
        ws: int = self._ws_port_override if self._ws_port_override is not None else self.config.get(WS_PORT_KEY)
        return rest, ws

    def uptime(self) -> float:
        return 0.0 if self.started_at is None else self.reactor.seconds() - self.started_at

    # -- steps of the initializer (the first one runs in a worker thread) ---------------------

    def init_local(self: Self) -> None:
        """Blocking part of startup: folders, lock, log file, configuration, API secret."""
        self.paths.create()
        self.lock.acquire(wait=self._wait_lock)
        self.config.load()
        rotation = {"rotate_bytes": self.config.get("logs/max-size"), "max_files": self.config.get("logs/max-files")}
        self.logging.open_file(self.paths.logs, **rotation)
        self.events.open_log(self.paths.event_log, **rotation)
        # Ports given on the command line are saved so that later clients find the engine;
        # port 0 (any free port, for tests) is used for this run only.
        if self._rest_port_override:
            self.config.set(REST_PORT_KEY, self._rest_port_override)
        if self._ws_port_override:
            self.config.set(WS_PORT_KEY, self._ws_port_override)
        self.secret = ensure_secret(self.paths.api_secret)
        for part in self.parts:
            part.load(self)

    def after_local(self: Self) -> None:
        """Reactor-thread part of the local step: log level, config events, service registry."""
        self.logging.set_debug_level(self.config.get("logs/debug-level"))
        self.config.watch("logs/debug-level", lambda key, new, old: self.logging.set_debug_level(new))
        self.config.add_listener(self._on_config_changed)
        self.automats.add_listener(self._log_transition)
        self.services.add_all(self._service_factories, self)
        self.log.info("engine {version} starting in {home}", version=self.version, home=str(self.paths.home))

    def start_interfaces(self: Self) -> defer.Deferred[None]:
        """Build the local API through the composition's factory and start listening."""
        self.api = self._local_api(self)
        self.events.subscribe(self._push_event)
        self.automats.add_listener(self._push_state_change)
        return self.api.start()

    def announce_ready(self) -> None:
        api = self.api
        assert api is not None, "the initializer starts the interfaces before announcing"
        self.started_at = self.reactor.seconds()
        self.log.info(
            "engine ready: REST http://127.0.0.1:{rest}/  WebSocket ws://127.0.0.1:{ws}/",
            rest=api.rest_port,
            ws=api.ws_port,
        )
        self.events.send("engine-ready", {"pid": self.pid, "rest_port": api.rest_port, "ws_port": api.ws_port})
        self.ready.callback(self)

    def report_startup_failure(self, failure: Failure | None) -> None:
        message = failure.getErrorMessage() if failure is not None else "unknown error"
        if failure is not None and hasattr(failure.value, "message"):
            message = failure.value.message
        self.startup_error = message
        self.log.critical("engine failed to start: {message}", message=message)
        if not self.ready.called:
            self.ready.errback(failure if failure is not None else RuntimeError(message))
            self.ready.addErrback(lambda _: None)

    # -- steps of the shutdowner --------------------------------------------------------------

    def stop_interfaces(self) -> defer.Deferred[None] | None:
        self.events.unsubscribe(self._push_event)
        self.automats.remove_listener(self._push_state_change)
        if self.api is None:
            return None
        return self.api.stop()

    def release_local(self) -> None:
        self.log.info("engine stopped")
        self.events.close()
        self.lock.release()
        self.logging.close()

    def finish(self, *, restart: bool) -> None:
        """The shutdowner's last action; ``finished`` fires once its transition is over (below)."""
        self.restart_requested = restart
        if self.owns_reactor:
            try:
                self.reactor.stop()
            except error.ReactorNotRunning:
                pass

    # -- internals ----------------------------------------------------------------------------

    def _on_shutdowner_changed(self, automat: Automat, old: str, new: str, event: str) -> None:
        """Fire ``finished`` when the shutdowner has entered FINISHED, not from inside its last
        action: by then its timers are cancelled, so whoever waits on :meth:`stop` finds the engine
        with nothing of it left on the reactor (many engines share one reactor in a test)."""
        if new == "FINISHED" and not self.finished.called:
            self.finished.callback(self.restart_requested)

    def current_secret(self) -> str | None:
        """The secret API clients must present, or None while authentication is off in the config."""
        if not self.config.get("interface/api/auth-secret-enabled"):
            return None
        return self.secret

    def _on_config_changed(self, key: str, new: object, old: object) -> None:
        info = self.config.info(key)
        self.events.send("config-changed", {"key": key, "value": info["value"]})

    def _log_transition(self, automat: Automat, old: str, new: str, event: str) -> None:
        if self.config.get("logs/automat-transitions-enabled"):
            self.log.info("{automat}: {old} -> {new} on {event}", automat=automat.id, old=old, new=new, event=event)

    def _push_event(self, event: dict[str, Any]) -> None:
        if self.api is not None:
            self.api.broadcast(
                {"type": "event", "payload": {"event_id": event["id"], "data": event["data"], "time": event["time"]}}
            )

    def _push_state_change(self, automat: Automat, old: str, new: str, event: str) -> None:
        if self.api is not None:
            data = dict(automat.to_json())
            data.update({"old_state": old, "event": event})
            self.api.broadcast({"type": "model", "payload": {"name": "automat", "id": automat.index, "data": data}})
