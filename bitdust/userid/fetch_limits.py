"""How many identity fetches may be open at once, per identity server and in total.

Any packet or DHT record names a creator IDURL, and an unknown creator makes the node fetch that
IDURL before it can check a single signature. Without a bound a peer that names 300 creators on
a server that never answers holds 300 sockets of ours open (and open files with them) until each
times out. So every HTTP fetch the identity cache starts takes a slot here first:

- a *known* server (one of the network config's identity servers, or one of our own sources) is
  trusted to answer promptly: up to ``max_open_known`` fetches each;
- any other server gets ``max_open_unknown`` fetches at once, and all such servers together
  ``max_open_unknown_total``: naming creators on many made-up hosts gains nothing;
- a fetch that finds no free slot waits in a bounded queue of its server (a waiting fetch holds no
  socket, only a Deferred); beyond ``max_waiting`` per server or ``max_waiting_total`` in all it is
  refused at once with reason ``busy``.

The caller's deadline covers the wait: cancelling a waiting fetch takes it out of the queue.
The known servers change while the node runs (:meth:`FetchLimits.set_known_servers`); the
identity part of the engine keeps them current.
"""

from __future__ import annotations

import collections
from collections.abc import Collection

import attrs
from twisted.internet import defer

from bitdust.userid.errors import IdentityFetchError

MAX_OPEN_KNOWN = 16
MAX_OPEN_UNKNOWN = 2
MAX_OPEN_UNKNOWN_TOTAL = 8
MAX_WAITING = 32
MAX_WAITING_TOTAL = 256


@attrs.define
class FetchLimitStats:
    """Counters for tests and the bench: what was started, what waited, what was refused."""

    started: int = 0
    waited: int = 0
    refused: int = 0
    peak_open: int = 0

    def to_json(self) -> dict[str, int]:
        return attrs.asdict(self)


class Slot:
    """One admitted fetch; :meth:`release` it exactly once when the fetch is over."""

    def __init__(self, limits: FetchLimits, server: str, known: bool) -> None:
        self._limits = limits
        self.server = server
        self.known = known
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limits._release(self.server, self.known)


class FetchLimits:
    """Slots for identity fetches (module docstring); ``known_servers`` are ``IdUrl.server`` strings."""

    def __init__(
        self,
        *,
        known_servers: Collection[str] = (),
        max_open_known: int = MAX_OPEN_KNOWN,
        max_open_unknown: int = MAX_OPEN_UNKNOWN,
        max_open_unknown_total: int = MAX_OPEN_UNKNOWN_TOTAL,
        max_waiting: int = MAX_WAITING,
        max_waiting_total: int = MAX_WAITING_TOTAL,
    ) -> None:
        self.known_servers: set[str] = set(known_servers)
        self.max_open_known = max_open_known
        self.max_open_unknown = max_open_unknown
        self.max_open_unknown_total = max_open_unknown_total
        self.max_waiting = max_waiting
        self.max_waiting_total = max_waiting_total
        self._open: collections.Counter[str] = collections.Counter()
        self._open_unknown = 0
        self._waiting: dict[str, collections.deque[defer.Deferred[Slot]]] = {}
        self._waiting_total = 0
        self.stats = FetchLimitStats()

    @property
    def open(self) -> int:
        """Fetches holding a slot now (each one may hold a socket)."""
        return sum(self._open.values())

    @property
    def waiting(self) -> int:
        return self._waiting_total

    def is_known(self, server: str) -> bool:
        return server in self.known_servers

    def set_known_servers(self, servers: Collection[str]) -> None:
        """Replace the known servers (our identity or the network config changed) and start what fits now.

        Fetches already open keep the slot kind they were started with, so every count stays exact;
        fetches waiting for a server that just became known may start at once.
        """
        self.known_servers = set(servers)
        self._wake()

    def acquire(self, server: str) -> defer.Deferred[Slot]:
        """Fires with a :class:`Slot` once a fetch from ``server`` may start; ``busy`` when the queue is full."""
        if self._has_room(server):
            return defer.succeed(self._take(server))
        queue = self._waiting.get(server)
        if len(queue or ()) >= self.max_waiting or self._waiting_total >= self.max_waiting_total:
            self.stats.refused += 1
            return defer.fail(
                IdentityFetchError(f"too many identity fetches from {server} at once", reason="busy", url=server)
            )
        waiter: defer.Deferred[Slot] = defer.Deferred(canceller=lambda d: self._forget_waiter(server, d))
        self._waiting.setdefault(server, collections.deque()).append(waiter)
        self._waiting_total += 1
        self.stats.waited += 1
        return waiter

    # -- internals ----------------------------------------------------------------------------

    def _has_room(self, server: str) -> bool:
        if self.is_known(server):
            return self._open[server] < self.max_open_known
        return self._open[server] < self.max_open_unknown and self._open_unknown < self.max_open_unknown_total

    def _take(self, server: str) -> Slot:
        known = self.is_known(server)
        self._open[server] += 1
        if not known:
            self._open_unknown += 1
        self.stats.started += 1
        self.stats.peak_open = max(self.stats.peak_open, self.open)
        return Slot(self, server, known)

    def _release(self, server: str, known: bool) -> None:
        self._open[server] -= 1
        if self._open[server] <= 0:
            del self._open[server]
        if not known:
            self._open_unknown -= 1
        self._wake()

    def _wake(self) -> None:
        """Start waiting fetches that fit now, oldest server queue first."""
        for server in list(self._waiting):
            queue = self._waiting.get(server)
            if queue is None:
                continue
            while queue and self._has_room(server):
                waiter = queue.popleft()
                self._waiting_total -= 1
                waiter.callback(self._take(server))
            if not queue:
                self._waiting.pop(server, None)

    def _forget_waiter(self, server: str, waiter: defer.Deferred[Slot]) -> None:
        queue = self._waiting.get(server)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            self._waiting_total -= 1
            if not queue:
                del self._waiting[server]
