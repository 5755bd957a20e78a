"""The Twisted services a BitDust service runs as its children: a listening port and a timer.

A BitDust service (:class:`~bitdust.main.service_framework.service.BitDustService`) is a ``MultiService``; what it
listens on and what it does periodically are children of it, so that stopping the service stops
them, in reverse order, before the service's own ``stop``. Twisted's own classes do the work; the
two subclasses here add what a service's start needs and Twisted does not offer:

- :class:`ListeningService` says when its port listens, or why it cannot (a port in use must fail
  the service's start with a reason, not only be written to the global log);
- :class:`IntervalService` can wait one interval before the first call, as the services' timers
  always did (Twisted's ``TimerService`` calls at once);
- :class:`OpenedPortService` holds a port that is opened by a call rather than an endpoint (the
  DHT's UDP port: datagram ports have no endpoint API in Twisted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.application.internet import StreamServerEndpointService, TimerService
from twisted.application.service import Service
from twisted.internet import defer, task
from twisted.internet.interfaces import IListeningPort, IStreamServerEndpoint
from twisted.python.failure import Failure

from bitdust.main.logs import log_failure

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory, IReactorTime
    from twisted.logger import Logger


class _ReportingEndpoint:
    """Wraps the real endpoint so that its ``listen`` outcome reaches :class:`ListeningService`.

    The failure is handed to the service and not passed on: ``StreamServerEndpointService`` would
    only write it to the process-global log, and it stops cleanly on a port of ``None``. That
    ``None`` is why this is not declared an ``IStreamServerEndpoint`` (whose ``listen`` fires
    with a port): it is only what ``StreamServerEndpointService`` calls.
    """

    def __init__(self, endpoint: IStreamServerEndpoint, report: Callable[[IListeningPort | Failure], None]) -> None:
        self._endpoint = endpoint
        self._report = report

    def listen(self, protocolFactory: IProtocolFactory) -> defer.Deferred[IListeningPort | None]:  # noqa: N803
        def listened(port: IListeningPort) -> IListeningPort:
            self._report(port)
            return port

        def refused(failure: Failure) -> None:
            self._report(failure)

        return self._endpoint.listen(protocolFactory).addCallbacks(listened, refused)


class ListeningService(StreamServerEndpointService):
    """A server port as a child service; :meth:`when_listening` fires with the port or fails."""

    def __init__(self, endpoint: IStreamServerEndpoint, factory: IProtocolFactory) -> None:
        super().__init__(_ReportingEndpoint(endpoint, self._listened), factory)
        self.port: IListeningPort | None = None
        self._outcome: IListeningPort | Failure | None = None
        self._waiters: list[defer.Deferred[IListeningPort]] = []

    def when_listening(self) -> defer.Deferred[IListeningPort]:
        """Fires with the listening port once the endpoint listens; fails if it could not."""
        waiter: defer.Deferred[IListeningPort] = defer.Deferred()
        if self._outcome is None:
            self._waiters.append(waiter)
        else:
            self._fire(waiter, self._outcome)
        return waiter

    def stopService(self) -> defer.Deferred[None]:  # noqa: N802 - Twisted hook
        """Stop listening (a port that never opened has nothing to close)."""
        self.port = None
        stopped: defer.Deferred[None] = super().stopService()
        return stopped

    def _listened(self, outcome: IListeningPort | Failure) -> None:
        self._outcome = outcome
        if not isinstance(outcome, Failure):
            self.port = outcome
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            self._fire(waiter, outcome)

    @staticmethod
    def _fire(waiter: defer.Deferred[IListeningPort], outcome: IListeningPort | Failure) -> None:
        if isinstance(outcome, Failure):
            waiter.errback(outcome)
        else:
            waiter.callback(outcome)


class IntervalService(TimerService):
    """Calls ``work`` every ``interval`` seconds on ``clock`` while running.

    ``now=False`` waits one interval before the first call (Twisted's ``TimerService`` calls at
    once). A call that returns a Deferred holds the next one until it fires, and stopping waits for
    it; a call that raises ends the loop and is logged to ``log``.
    """

    def __init__(
        self,
        interval: float,
        work: Callable[[], object],
        *,
        clock: IReactorTime,
        log: Logger,
        now: bool = False,
    ) -> None:
        super().__init__(interval, work)
        self.clock = clock
        self._now = now
        self._log = log

    def startService(self) -> None:  # noqa: N802 - Twisted hook
        # TimerService.startService with ``now`` and our logger; ``_loop`` and ``_loopFinished`` are
        # the attributes its stopService reads.
        Service.startService(self)
        work, args, kwargs = self.call
        self._loop = task.LoopingCall(work, *args, **kwargs)
        self._loop.clock = self.clock
        self._loopFinished = self._loop.start(self.step, now=self._now)
        self._loopFinished.addErrback(self._ended_by_failure)

    def _ended_by_failure(self, failure: Failure) -> None:
        self._loop.running = False
        log_failure(self._log, "periodic work {work} failed", work=getattr(self.call[0], "__name__", "?"))(failure)


class OpenedPortService(Service):
    """A port that ``open`` opens when the service starts (it raises if it cannot) and stopping closes."""

    def __init__(self, open_port: Callable[[], IListeningPort]) -> None:
        self._open = open_port
        self.port: IListeningPort | None = None

    def startService(self) -> None:  # noqa: N802 - Twisted hook
        Service.startService(self)
        self.port = self._open()

    def stopService(self) -> defer.Deferred[None]:  # noqa: N802 - Twisted hook
        Service.stopService(self)
        port, self.port = self.port, None
        stopping = port.stopListening() if port is not None else None
        return stopping if stopping is not None else defer.succeed(None)
