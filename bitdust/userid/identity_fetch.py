"""One GET of an identity document from its server, checked but not kept: what the cache fetches with.

Every request takes a slot of :class:`~bitdust.userid.fetch_limits.FetchLimits` first, so peers
naming creators on servers that never answer hold a bounded number of sockets; one deadline covers
the wait for the slot and the request. The answer must be HTTP 200, within the size limit, a
document whose signature checks (parsed through ``run_blocking``, off the reactor thread) and that
lists the IDURL it was fetched from among its sources. Every failure is an
:class:`~bitdust.userid.errors.IdentityFetchError` whose ``reason`` says which check refused it.
Whether the document is believed is the cache's business (:mod:`bitdust.userid.identity_cache`).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from bitdust.main.collaborators import RunBlocking
from bitdust.userid.errors import IdentityError, IdentityFetchError, IdentitySignatureError
from bitdust.userid.fetch_limits import FetchLimits, Slot
from bitdust.userid.http_fetch import HttpGet
from bitdust.userid.identity import Identity
from bitdust.userid.idurl import IdUrl


class DocumentFetcher:
    """GETs identity documents within ``limits`` and ``timeout``; counts the bytes it received."""

    def __init__(
        self,
        *,
        http_get: HttpGet,
        clock: IReactorTime,
        limits: FetchLimits,
        timeout: float,
        max_size: int,
        run_blocking: RunBlocking,
    ) -> None:
        self._http_get = http_get
        self._clock = clock
        self.limits = limits
        self._timeout = timeout
        self._max_size = max_size
        self._run_blocking = run_blocking
        #: bytes of every answer body, refused ones included (for packets_stats)
        self.fetched_bytes = 0

    def get(self, target: IdUrl) -> defer.Deferred[Identity]:
        """GET, size and status checks, parse (signature included) in a worker; nothing is kept.

        The deadline covers the wait for a fetch slot too.
        """
        slots: list[Slot] = []

        def start(slot: Slot) -> defer.Deferred[tuple[int, bytes]]:
            slots.append(slot)
            return defer.maybeDeferred(self._http_get, target.url, self._timeout)

        def release(result: object) -> object:
            for slot in slots:
                slot.release()
            return result

        d: defer.Deferred[Any] = self.limits.acquire(target.server)
        d.addCallback(start)
        d.addBoth(release)
        d.addTimeout(self._timeout, self._clock, onTimeoutCancel=lambda _r, t: _timeout_failure(target, t))
        d.addErrback(_as_fetch_error, target)
        d.addCallback(self._got_response, target)
        return d

    def _got_response(self, response: tuple[int, bytes], target: IdUrl) -> defer.Deferred[Identity]:
        status, body = response
        self.fetched_bytes += len(body)
        if status != 200:
            raise IdentityFetchError(f"{target.url} answered HTTP {status}", reason="http-status", url=target.url)
        if len(body) > self._max_size:
            raise IdentityFetchError(
                f"{target.url} answered {len(body)} bytes, over the {self._max_size} byte limit",
                reason="too-large",
                url=target.url,
            )
        d: defer.Deferred[Identity] = self._run_blocking(Identity.from_xml, body)
        return d.addCallbacks(_lists_target, _bad_document, callbackArgs=(target,), errbackArgs=(target,))


def _lists_target(identity: Identity, target: IdUrl) -> Identity:
    if target not in identity.sources:
        raise IdentityFetchError(
            f"the identity served at {target.url} does not list that IDURL among its sources",
            reason="wrong-sources",
            url=target.url,
        )
    return identity


def _timeout_failure(target: IdUrl, timeout: float) -> Failure:
    message = f"{target.url} did not answer within {timeout:g} seconds"
    return Failure(IdentityFetchError(message, reason="timeout", url=target.url))


def _as_fetch_error(failure: Failure, target: IdUrl) -> Failure:
    if failure.check(IdentityFetchError):
        return failure
    message = f"could not fetch {target.url}: {failure.getErrorMessage() or failure.type.__name__}"
    return Failure(IdentityFetchError(message, reason="network", url=target.url))


def _bad_document(failure: Failure, target: IdUrl) -> Failure:
    if failure.check(IdentitySignatureError):
        reason = "bad-signature"
    elif failure.check(IdentityError):
        reason = "bad-document"
    else:
        return failure
    message = f"refused the identity at {target.url}: {failure.value}"
    return Failure(IdentityFetchError(message, reason=reason, url=target.url))
