"""The nodes that recently refused, rejected or failed us, so the finder does not offer them again at once.

Bounded in both ways: an entry expires after ``ttl`` seconds (a supplier that freed space, or came
back, may be worth asking again later) and at most ``limit`` entries are kept, the oldest dropped
first, so peers refusing us in bulk cannot grow it without end.
"""

from __future__ import annotations

from collections import OrderedDict

from twisted.internet.interfaces import IReactorTime


class RefusedMemory:
    """``idurl -> (when, reason)`` with expiry and a size bound."""

    def __init__(self, clock: IReactorTime, *, ttl: float = 600.0, limit: int = 1000) -> None:
        self.clock = clock
        self.ttl = ttl
        self.limit = limit
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def __len__(self) -> int:
        self._expire()
        return len(self._entries)

    def remember(self, idurl: str, reason: str) -> None:
        """``idurl`` refused us now; remembering it again restarts its time."""
        self._entries.pop(idurl, None)
        self._entries[idurl] = (self.clock.seconds(), reason)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def reason(self, idurl: str) -> str | None:
        """Why ``idurl`` is remembered, or None when it is not (or no longer)."""
        self._expire()
        entry = self._entries.get(idurl)
        return entry[1] if entry is not None else None

    def _expire(self) -> None:
        cutoff = self.clock.seconds() - self.ttl
        while self._entries:
            idurl, (when, _reason) = next(iter(self._entries.items()))
            if when > cutoff:
                return
            del self._entries[idurl]
