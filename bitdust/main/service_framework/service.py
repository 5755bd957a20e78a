"""The base class of every BitDust service: a Twisted ``MultiService`` with a start that can fail.

A service wires one subsystem into the engine: it names the services it needs, the config
options it owns and the DHT layers it joins, and it knows how to start and stop. The
:class:`~bitdust.main.service_framework.service_manager.ServiceManager` decides when that happens, and each
service's machine (:class:`~bitdust.main.service_framework.service_state.ServiceState`, source
``automats/service.md``) records where it is; the machine's actions call :meth:`start_running`
and :meth:`stop_running`.

What a service listens on and what it does periodically are its child services
(:meth:`listen_on`, :meth:`open_port`, :meth:`run_every`), so the Twisted tree says what a running service holds and
stopping the service closes them in reverse order before its own :meth:`stop` runs. Twisted's
``startService`` cannot report a failure or wait, which a service's start must (a port in use, a
database to open in a worker thread): hence the two ``*_running`` methods around the hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.application.service import IService, MultiService, Service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.service_framework.service_children import IntervalService, ListeningService, OpenedPortService

if TYPE_CHECKING:
    from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IReactorTime, IStreamServerEndpoint

    from bitdust.main.engine import Engine
    from bitdust.main.settings.config_options import Option


class BitDustService(MultiService):
    """Subclass and set the class attributes; override ``start``/``stop``/``installed``."""

    #: ``service_<name>``; the enable flag is ``services/<name-with-dashes>/enabled``. It is also
    #: the Twisted service name, under which the service manager holds it as a child. (Twisted's
    #: ``Service`` spells its default ``name = None``, so mypy takes that attribute to be None.)
    name: str = ""  # type: ignore[assignment]
    #: Names of the services that must be ON before this one starts.
    depends_on: tuple[str, ...] = ()
    enabled_by_default: bool = True
    #: DHT layers this service attaches the node to (used once the DHT exists).
    layers: tuple[int, ...] = ()
    description: str = ""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        # Children added while the service runs (by start, through listen_on and run_every) live
        # for that run only: stopping removes them, and the next start adds them anew from the
        # config of that moment.
        self._run_children: list[IService] = []
        #: Where the children's failures (a timer's work raising, a port failing to close) are
        #: logged; the service manager puts the engine's logger here when it adopts the service.
        self.children_log = Logger(namespace="bitdust.services")

    def config_prefix(self) -> str:
        """``service_private_groups`` -> ``services/private-groups``."""
        short = self.name.removeprefix("service_")
        return "services/" + short.replace("_", "-")

    def enabled_key(self) -> str:
        """The config key of this service's enable flag."""
        return self.config_prefix() + "/enabled"

    # -- hooks of the subclasses ---------------------------------------------------------------

    def options(self) -> tuple[Option, ...]:
        """Config options of this service besides its enable flag."""
        return ()

    def installed(self) -> bool:
        """Whether the service can run on this node at all (e.g. it needs an identity)."""
        return True

    def start(self) -> defer.Deferred[Any] | None:
        """Start the service; a Deferred that fails means the start failed.

        Runs with the service already marked running, so children added here start at once.
        """
        return None

    def stop(self) -> defer.Deferred[Any] | None:
        """Stop the service; runs after its children (ports, timers) have stopped."""
        return None

    # -- children ------------------------------------------------------------------------------

    def listen_on(self, endpoint: IStreamServerEndpoint, factory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        """Listen on ``endpoint`` as a child of this run; fires with the port, fails if it cannot listen."""
        child = ListeningService(endpoint, factory)
        self._adopt(child)
        return child.when_listening()

    def open_port(self, open_port: Callable[[], IListeningPort]) -> IListeningPort:
        """Open a port by calling ``open_port`` (a UDP port: no endpoint) as a child of this run.

        Raises what ``open_port`` raises (``CannotListenError``); the child is dropped with the
        failed start then.
        """
        child = OpenedPortService(open_port)
        self._adopt(child)
        assert child.port is not None, "a running parent starts its child at once"
        return child.port

    def run_every(
        self, interval: float, work: Callable[[], object], *, clock: IReactorTime, now: bool = False
    ) -> IntervalService:
        """Call ``work`` every ``interval`` seconds on ``clock`` while this run lasts."""
        child = IntervalService(interval, work, clock=clock, log=self.children_log, now=now)
        self._adopt(child)
        return child

    def _adopt(self, child: IService) -> None:
        if not self.running:
            raise RuntimeError(f"{self.name}: children are added while the service starts or runs")
        self._run_children.append(child)
        child.setServiceParent(self)  # a running parent starts its new child at once

    # -- what the service machine calls ----------------------------------------------------------

    def start_running(self) -> defer.Deferred[None]:
        """Mark the service running (starting its children), then run :meth:`start`.

        When ``start`` fails, whatever it had started as children is stopped again and the
        service is not running; the Deferred fails with ``start``'s failure.
        """
        self.startService()
        started = defer.maybeDeferred(self.start)

        def undo(failure: Failure) -> defer.Deferred[None]:
            undone = self.stopService()
            undone.addCallback(lambda _: failure)
            return undone

        return started.addCallbacks(lambda _: None, undo)

    def stop_running(self) -> defer.Deferred[None]:
        """Stop the children in reverse order, then run :meth:`stop`."""
        stopped = self.stopService()
        stopped.addCallback(lambda _: self.stop())
        return stopped.addCallback(lambda _: None)

    def stopService(self) -> defer.Deferred[None]:  # noqa: N802 - Twisted hook
        """``MultiService``'s stop (children in reverse order), then forget this run's children.

        Written out rather than inherited because a child that fails to stop must be logged here:
        ``MultiService`` keeps that failure in a list nobody reads, unconsumed (printed as an
        unhandled error when collected).
        """
        Service.stopService(self)
        stops = [defer.maybeDeferred(child.stopService) for child in reversed(list(self))]
        stopped = defer.DeferredList(stops, consumeErrors=True)

        def forget(results: list[tuple[bool, object]]) -> None:
            for ok, result in results:
                if not ok and isinstance(result, Failure):
                    self.children_log.failure("{name}: a child service failed to stop", result, name=self.name)
            children, self._run_children = self._run_children, []
            for child in children:
                child.disownServiceParent()

        return stopped.addCallback(forget)
