"""Bad packets counted per peer address, across connections, so reconnecting does not wipe the slate.

A connection that carries a few bad packets (malformed, badly signed, naming creators nobody can
fetch) is dropped; before this ledger, a new connection started from zero, so an attacker kept
the node fetching and verifying by reconnecting. Here every bad packet counts against the peer's
address (its IP). ``max_bad`` of them within ``window`` seconds and the address is refused for
``ban`` seconds; each further ban from the same address doubles, up to ``max_ban``. The transport
refuses new connections from a refused address and drops its unauthenticated ones; connections
already bound to a verified peer stay (other users may share the address, as behind one NAT).

Memory is bounded: at most ``max_tracked`` addresses are remembered; when full, the entries with
nothing to hold against them (forgiven or never banned) go first, then the oldest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

MAX_BAD = 10
WINDOW = 600.0
BAN = 60.0
MAX_BAN = 3600.0
MAX_TRACKED = 10_000


@attrs.define
class _Record:
    first: float
    count: int = 0
    strikes: int = 0
    refused_until: float = 0.0


class AddressPenalties:
    """The per-address ledger (module docstring); ``clock`` is any ``IReactorTime``."""

    def __init__(
        self,
        clock: IReactorTime,
        *,
        max_bad: int = MAX_BAD,
        window: float = WINDOW,
        ban: float = BAN,
        max_ban: float = MAX_BAN,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.clock = clock
        self.max_bad = max_bad
        self.window = window
        self.ban = ban
        self.max_ban = max_ban
        self.max_tracked = max_tracked
        self._records: dict[str, _Record] = {}
        #: how many times an address was refused, for status and tests
        self.bans = 0

    def __len__(self) -> int:
        return len(self._records)

    def is_refused(self, host: str) -> bool:
        record = self._records.get(host)
        return record is not None and self.clock.seconds() < record.refused_until

    def report(self, host: str) -> bool:
        """Count one bad packet from ``host``; True when this made (or keeps) the address refused."""
        now = self.clock.seconds()
        record = self._records.get(host)
        if record is None:
            self._make_room(now)
            record = self._records[host] = _Record(first=now)
        elif now - record.first > self.window:
            record.first, record.count = now, 0
        if now < record.refused_until:
            return True
        record.count += 1
        if record.count < self.max_bad:
            return False
        record.count = 0
        record.first = now
        record.refused_until = now + min(self.ban * 2**record.strikes, self.max_ban)
        record.strikes += 1
        self.bans += 1
        return True

    def _make_room(self, now: float) -> None:
        if len(self._records) < self.max_tracked:
            return
        harmless = [
            host
            for host, record in self._records.items()
            if record.refused_until <= now and (record.strikes == 0 or now - record.refused_until > self.max_ban)
        ]
        for host in harmless:
            del self._records[host]
        while len(self._records) >= self.max_tracked:
            del self._records[next(iter(self._records))]
