"""The two API listeners (REST and WebSocket) as one unit the engine starts and stops.

Both listen on 127.0.0.1 only. Stopping must not hang on a client: besides closing the
listening ports it closes every open connection (idle HTTP keep-alive connections, pending long
polls, WebSocket clients), aborting the ones that do not go within ``close_timeout`` seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from twisted.internet import defer, error
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IReactorTCP, IReactorTime, ITCPTransport
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure

from bitdust.interface.api.registry import ApiRegistry
from bitdust.interface.rest import ApiSite, make_rest_site, read_limit
from bitdust.interface.websocket import ApiWebSocketFactory, make_ws_factory
from bitdust.main.errors import InternalError

LISTEN_INTERFACE = "127.0.0.1"
REST_PORT_OPTION = "interface/api/rest-http-port"
WS_PORT_OPTION = "interface/api/web-socket-port"


class PortUnavailable(InternalError):
    """An API port cannot be bound (usually: another program, or another engine, has it)."""


def _tcp_of(wrapper: ProtocolWrapper) -> ITCPTransport:
    """The TCP transport under a tracked connection (a wrapper is tracked only while connected)."""
    assert wrapper.transport is not None, "a tracked connection without a transport"
    return cast(ITCPTransport, wrapper.transport)


def _bound_port(listener: IListeningPort) -> int:
    """The port a listener is bound to: ApiServers listens with TCP on IPv4 only."""
    return cast(IPv4Address, listener.getHost()).port


def _stop_listening(listener: IListeningPort) -> defer.Deferred[None]:
    """``stopListening`` as a Deferred: it may return one or None, or raise (a failed Deferred)."""

    def stop() -> defer.Deferred[None]:
        return listener.stopListening() or defer.succeed(None)

    return defer.maybeDeferred(stop)


class _ConnectionTracker(WrappingFactory, ServerFactory):
    """Wraps a server factory to know its open connections, so they can be closed on stop.

    Twisted's WrappingFactory is a ClientFactory, and ``listenTCP`` is typed to take a
    ServerFactory; this one serves only, and says so (ServerFactory adds no behaviour).
    """

    noisy = False
    #: every open connection (WrappingFactory's own bookkeeping: wrapper to 1)
    protocols: dict[ProtocolWrapper, int]

    def __init__(self, wrapped: IProtocolFactory) -> None:
        super().__init__(wrapped)
        self._waiting: list[defer.Deferred[None]] = []

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:  # noqa: N802 - Twisted hook
        super().unregisterProtocol(p)
        if not self.protocols:
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                d.callback(None)

    def count(self) -> int:
        return len(self.protocols)

    def close_all(self) -> None:
        """Close politely: what was already written (a close frame, an answer) still goes out."""
        for wrapper in list(self.protocols):
            _tcp_of(wrapper).loseConnection()

    def abort_all(self) -> None:
        for wrapper in list(self.protocols):
            _tcp_of(wrapper).abortConnection()

    def when_empty(self) -> defer.Deferred[None]:
        if not self.protocols:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._waiting.append(d)
        return d


class ApiServers:
    """Owns the REST site and the WebSocket factory and their listening ports."""

    close_timeout = 3.0

    def __init__(
        self,
        reactor: IReactorTCP,
        registry: ApiRegistry,
        secret: Callable[[], str | None],
        *,
        rest_port: int,
        ws_port: int,
        rest_enabled: bool = True,
        ws_enabled: bool = True,
        max_request_size: Callable[[], int] | int,
        openapi: Callable[[], dict[str, Any]],
        log: Logger | None = None,
    ) -> None:
        #: the methods both servers dispatch to (in-process callers, such as the test harness, use it too)
        self.registry = registry
        self._reactor = reactor
        #: the same reactor, as a clock (every reactor is both; adapting says so to the type checker)
        self._clock = IReactorTime(reactor)
        self._log = log if log is not None else Logger(namespace="bitdust.interface.servers")
        self._rest_config_port = rest_port
        self._ws_config_port = ws_port
        self.site: ApiSite | None = None
        self.ws_factory: ApiWebSocketFactory | None = None
        self._trackers: list[_ConnectionTracker] = []
        self._rest_tracker: _ConnectionTracker | None = None
        self._ws_tracker: _ConnectionTracker | None = None
        self._rest_listener: IListeningPort | None = None
        self._ws_listener: IListeningPort | None = None
        if rest_enabled:
            self.site = make_rest_site(
                registry, secret, max_request_size=max_request_size, openapi=openapi, log=self._log, reactor=self._clock
            )
            self._rest_tracker = _ConnectionTracker(self.site)
        if ws_enabled:
            limit = read_limit(max_request_size)
            # autobahn refuses port 0 in a URL; the URL is informational here (no externalPort check)
            url = f"ws://{LISTEN_INTERFACE}:{ws_port}" if ws_port else f"ws://{LISTEN_INTERFACE}"
            self.ws_factory = make_ws_factory(registry, secret, url=url, log=self._log, max_message_size=limit)
            self._ws_tracker = _ConnectionTracker(self.ws_factory)

    @property
    def rest_port(self) -> int | None:
        """The bound REST port once started (the real one when configured as 0), else the configured one."""
        if self._rest_listener is not None:
            return _bound_port(self._rest_listener)
        return self._rest_config_port if self.site is not None else None

    @property
    def ws_port(self) -> int | None:
        if self._ws_listener is not None:
            return _bound_port(self._ws_listener)
        return self._ws_config_port if self.ws_factory is not None else None

    def start(self) -> defer.Deferred[None]:
        """Listen on the enabled ports; fails with :class:`PortUnavailable` naming port and option."""
        try:
            if self._rest_tracker is not None:
                self._rest_listener = self._listen(self._rest_config_port, self._rest_tracker, "REST", REST_PORT_OPTION)
            if self._ws_tracker is not None:
                self._ws_listener = self._listen(self._ws_config_port, self._ws_tracker, "WebSocket", WS_PORT_OPTION)
        except PortUnavailable:
            failure = Failure()
            if self._rest_listener is None:
                return defer.fail(failure)
            stopping = _stop_listening(self._rest_listener)
            self._rest_listener = None
            return stopping.addBoth(lambda _: failure)
        self._log.info(
            "API listening: REST on {rest}, WebSocket on {ws}", rest=self.rest_port or "-", ws=self.ws_port or "-"
        )
        return defer.succeed(None)

    def _listen(self, port: int, factory: _ConnectionTracker, what: str, option: str) -> IListeningPort:
        try:
            return self._reactor.listenTCP(port, factory, interface=LISTEN_INTERFACE)
        except error.CannotListenError as exc:
            raise PortUnavailable(
                f"cannot listen for the {what} API on {LISTEN_INTERFACE}:{port} ({exc.socketError}); "
                f"free the port or change the config option {option}"
            ) from exc

    def stop(self) -> defer.Deferred[None]:
        """Stop listening and close every connection; fires when all are gone."""
        waits: list[defer.Deferred[None]] = []
        for listener in (self._rest_listener, self._ws_listener):
            if listener is not None:
                waits.append(_stop_listening(listener))
        self._rest_listener = self._ws_listener = None
        if self.ws_factory is not None:
            self.ws_factory.close_all()
        trackers = [t for t in (self._rest_tracker, self._ws_tracker) if t is not None]
        for tracker in trackers:
            tracker.close_all()
            waits.append(tracker.when_empty())
        abort = None
        if any(t.count() for t in trackers):
            abort = self._clock.callLater(self.close_timeout, self._abort, trackers)

        def done(result: list[None] | Failure) -> None:
            if abort is not None and abort.active():
                abort.cancel()
            if isinstance(result, Failure):
                self._log.failure("stopping the API servers failed", result)
            return None

        return defer.gatherResults(waits, consumeErrors=True).addBoth(done)

    def _abort(self, trackers: list[_ConnectionTracker]) -> None:
        for tracker in trackers:
            if tracker.count():
                self._log.info("aborting {count} API connections that did not close", count=tracker.count())
                tracker.abort_all()

    def broadcast(self, frame: dict[str, Any]) -> None:
        """Push ``frame`` to every WebSocket client; nothing happens when WebSocket is disabled."""
        if self.ws_factory is not None:
            self.ws_factory.broadcast(frame)

    def clients_info(self) -> list[dict[str, Any]]:
        return self.ws_factory.clients_info() if self.ws_factory is not None else []
