"""A small, size-limited HTTP GET for identity documents, built on treq.

Identity servers are strangers: a hostile or broken one could answer slowly, endlessly or with a
huge body. This getter never buffers more than ``max_size + 1`` bytes (treq's default buffering is
turned off), refuses a ``Content-Length`` over the limit before reading, does not follow redirects
(an IDURL must be served where it says), and puts one deadline on the whole exchange, body included.
Its result is ``(status, body)``; judging the status is the caller's business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss

from bitdust.userid.errors import IdentityFetchError
from bitdust.userid.identity import MAX_IDENTITY_SIZE

HttpGet = Callable[[str, float], "defer.Deferred[tuple[int, bytes]]"]
"""``http_get(url, timeout) -> Deferred[(status, body)]``: what :class:`IdentityCache` needs."""

USER_AGENT = b"BitDust identity fetch"


class _LimitedBody(Protocol):
    """Collects a response body, failing (and dropping the connection) once it exceeds the limit."""

    def __init__(self, url: str, max_size: int) -> None:
        self.url = url
        self.max_size = max_size
        self.size = 0
        self.chunks: list[bytes] = []
        self.finished: defer.Deferred[bytes] | None = defer.Deferred(canceller=self._cancel)

    def _stop(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def _cancel(self, _d: defer.Deferred[bytes]) -> None:
        self.finished = None
        self._stop()

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted hook
        if self.finished is None:
            return
        self.size += len(data)
        if self.size > self.max_size:
            finished, self.finished = self.finished, None
            self.chunks = []
            self._stop()
            finished.errback(_too_large(self.url, self.max_size))
            return
        self.chunks.append(data)

    def connectionLost(self, reason: Failure | None = None) -> None:  # noqa: N802 - Twisted hook
        if self.finished is None:
            return
        finished, self.finished = self.finished, None
        if reason is None or reason.check(ResponseDone, PotentialDataLoss):
            finished.callback(b"".join(self.chunks))
        else:
            message = f"connection to {self.url} lost while reading: {reason.getErrorMessage()}"
            finished.errback(IdentityFetchError(message, reason="network", url=self.url))


def _too_large(url: str, max_size: int) -> IdentityFetchError:
    return IdentityFetchError(f"{url} answered more than {max_size} bytes", reason="too-large", url=url)


def _default_client(reactor: IReactorTime) -> Any:
    """A treq client without persistent connections (identity servers are many and seldom asked)."""
    from treq.client import HTTPClient
    from twisted.web.client import Agent, HTTPConnectionPool

    return HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))


def make_http_get(reactor: IReactorTime, max_size: int = MAX_IDENTITY_SIZE, *, client: Any = None) -> HttpGet:
    """Build the real ``http_get`` for :class:`IdentityCache`.

    ``client`` is anything with treq's ``get`` (a ``treq.client.HTTPClient``, or
    ``treq.testing.StubTreq`` in tests); by default a non-persistent HTTPClient on ``reactor``.
    """
    client = client if client is not None else _default_client(reactor)

    def http_get(url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        d = client.get(
            url,
            headers={b"User-Agent": [USER_AGENT], b"Accept": [b"text/xml, application/xml"]},
            allow_redirects=False,
            unbuffered=True,
            reactor=reactor,
        )
        return _limited_exchange(d, url, max_size, timeout, reactor)

    return http_get


HttpPost = Callable[[str, bytes, float], "defer.Deferred[tuple[int, bytes]]"]
"""``http_post(url, body, timeout) -> Deferred[(status, body)]``: registering on identity servers."""


def make_http_post(reactor: IReactorTime, max_size: int = 64 * 1024, *, client: Any = None) -> HttpPost:
    """Build the ``http_post`` used to publish our identity; same limits as :func:`make_http_get`."""
    client = client if client is not None else _default_client(reactor)

    def http_post(url: str, body: bytes, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        d = client.post(
            url,
            data=body,
            headers={b"User-Agent": [USER_AGENT], b"Content-Type": [b"text/xml; charset=utf-8"]},
            allow_redirects=False,
            unbuffered=True,
            reactor=reactor,
        )
        return _limited_exchange(d, url, max_size, timeout, reactor)

    return http_post


def _limited_exchange(
    d: defer.Deferred[Any], url: str, max_size: int, timeout: float, reactor: IReactorTime
) -> defer.Deferred[tuple[int, bytes]]:
    """Read the response body with the size limit, under one deadline; errors become fetch errors."""

    def read(response: Any) -> defer.Deferred[tuple[int, bytes]]:
        body = _LimitedBody(url, max_size)
        finished = body.finished
        assert finished is not None
        length = response.length
        if isinstance(length, int) and length > max_size:
            # Refuse without reading: the collector's canceller drops the connection.
            response.deliverBody(body)
            finished.addErrback(lambda _f: None)
            finished.cancel()
            return defer.fail(_too_large(url, max_size))
        response.deliverBody(body)
        return finished.addCallback(lambda data: (response.code, data))

    d.addCallback(read)
    # One deadline for headers and body; cancelling aborts the request or the body read.
    d.addTimeout(timeout, reactor, onTimeoutCancel=lambda _r, t: _timed_out(url, t))
    d.addErrback(_as_fetch_error, url)
    return d


def _as_fetch_error(failure: Failure, url: str) -> Failure:
    """Connection refused, DNS failures, protocol errors: one error type with reason ``network``."""
    if failure.check(IdentityFetchError):
        return failure
    message = f"could not fetch {url}: {failure.getErrorMessage() or failure.type.__name__}"
    return Failure(IdentityFetchError(message, reason="network", url=url))


def _timed_out(url: str, timeout: float) -> Failure:
    return Failure(IdentityFetchError(f"{url} did not answer within {timeout:g} seconds", reason="timeout", url=url))
