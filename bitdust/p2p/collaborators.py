"""What the packet layer needs of the rest of the node, as ``Protocol`` types.

The gateway is built by ``service_gateway`` from the Engine's parts, and by the tests and the
benchmarks from small fakes. Naming each collaborator by the calls the packet layer makes (not by
the class that happens to provide them today) keeps the two in step: mypy checks the identity cache,
the engine's thread pool and every transport against these, and a fake that misses a call is caught
before it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from twisted.internet import defer

from bitdust.userid.identity import Identity
from bitdust.userid.idurl import IdUrl

_T = TypeVar("_T")


class PeerIdentities(Protocol):
    """The identity cache as the gateway uses it (``bitdust.userid.identity_cache.IdentityCache``).

    ``get`` answers only from what is held (by bound sources and rotated-away IDURLs); ``fetch``
    asks the peer's identity servers; the two ``refresh`` calls are paced by the cache itself, so
    the gateway may ask after every failed attempt.
    """

    def get(self, idurl: str, /) -> Identity | None: ...

    def fetch(self, idurl: str, /) -> defer.Deferred[Identity]: ...

    def resolve(self, idurl: str, /) -> IdUrl: ...

    def refresh(self, idurl: str, /, *, reason: str = "") -> defer.Deferred[Identity | None]: ...

    def refresh_if_older(self, idurl: str, revision: int, /) -> defer.Deferred[Identity | None]: ...


class Transport(Protocol):
    """One way to hand bytes to a peer: ``proto`` is the scheme of the contacts it reaches (``tcp``)."""

    proto: str

    def send(self, idurl: str, contact: str, data: bytes) -> defer.Deferred[None]: ...


Observer = Callable[[str, str, object], object]
"""``observer(event, idurl, detail)``: told "inbox-packet", "outbox-failed" (no
answer, no route), "outbox-refused" (the peer answered Fail: it is online) and "outbox-done"."""
