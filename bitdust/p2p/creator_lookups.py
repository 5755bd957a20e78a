"""Unknown creators being looked up, bounded per sender address.

A packet names its creator; when the identity cache does not hold that identity, the gateway must
fetch it before it can check the signature. A sender that names a new unknown creator in every
packet would make us fetch for each, so one address may have at most ``max_per_address``
different unknown creators being fetched at once: packets naming a creator already being fetched
wait for that fetch, and one over the bound is dropped as ``busy`` before any request is made (not
the sender's fault for sure, so not counted against it). The cache bounds the fetches per identity
server and in total (:mod:`bitdust.userid.fetch_limits`).
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.userid.errors import IdentityFetchError
from bitdust.userid.identity import Identity


class CreatorLookups:
    """Which unknown creators each sender address has being fetched now."""

    def __init__(self, max_per_address: int) -> None:
        self.max_per_address = max_per_address
        #: unknown creators being fetched, by the address of the packets that named them
        self._pending: dict[str, set[str]] = {}

    def __len__(self) -> int:
        """Addresses with a lookup in flight."""
        return len(self._pending)

    def fetch(
        self, host: str, idurl: str, fetch: Callable[[str], defer.Deferred[Identity]]
    ) -> defer.Deferred[Identity]:
        """``fetch(idurl)`` for a packet that came from ``host``, or IdentityFetchError ``busy`` over the bound."""
        pending = self._pending.setdefault(host, set())
        if idurl not in pending and len(pending) >= self.max_per_address:
            if not pending:
                del self._pending[host]
            return defer.fail(
                IdentityFetchError(
                    f"{host} already has {len(pending)} unknown creators being looked up", reason="busy", url=idurl
                )
            )
        pending.add(idurl)

        def done(result: Identity | Failure) -> Identity | Failure:
            pending.discard(idurl)
            if not pending and self._pending.get(host) is pending:
                del self._pending[host]
            return result

        return fetch(idurl).addBoth(done)
