"""Replay protection: remember which packets were already accepted, for as long as they could verify.

:func:`bitdust.p2p.packet.verify` accepts a packet while ``|date - now| <= skew``, so a captured
packet stays replayable until ``date + skew``. The guard remembers each ``(creator_id, packet_id)``
exactly that long (a date later than ``now + window``, which verify refuses anyway, is clamped to it,
so a future-dated packet can not pin memory), then forgets it. Memory is bounded per creator and overall; when a bound is hit the guard fails closed
and refuses the packet rather than forget an entry, because forgetting would reopen a replay.
"""

from __future__ import annotations

import heapq

from twisted.internet.interfaces import IReactorTime

from bitdust.p2p.packet import DEFAULT_LIMITS, Packet


class ReplayGuard:
    """Say whether a packet was seen before; ``clock`` is any ``IReactorTime`` (``task.Clock`` in tests)."""

    def __init__(
        self,
        clock: IReactorTime,
        window_seconds: float = DEFAULT_LIMITS.max_skew,
        *,
        max_per_creator: int = 10_000,
        max_total: int = 200_000,
    ) -> None:
        if window_seconds <= 0 or max_per_creator <= 0 or max_total <= 0:
            raise ValueError("window and bounds must be positive")
        self._clock = clock
        self._window = float(window_seconds)
        self._max_per_creator = max_per_creator
        self._max_total = max_total
        self._expiry: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []
        self._per_creator: dict[str, int] = {}

    def __len__(self) -> int:
        self._expire(self._clock.seconds())
        return len(self._expiry)

    def _expire(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            _, key = heapq.heappop(self._heap)
            del self._expiry[key]
            count = self._per_creator[key[0]] - 1
            if count:
                self._per_creator[key[0]] = count
            else:
                del self._per_creator[key[0]]

    def check_and_remember(self, packet: Packet) -> bool:
        """True means "do not act on it": a replay, too old to track, or no room to remember it."""
        now = self._clock.seconds()
        self._expire(now)
        key = (packet.creator_id, packet.packet_id)
        if key in self._expiry:
            return True
        expires = min(packet.date, now + self._window) + self._window
        if expires < now:
            return True
        if len(self._expiry) >= self._max_total:
            return True
        if self._per_creator.get(packet.creator_id, 0) >= self._max_per_creator:
            return True
        self._expiry[key] = expires
        heapq.heappush(self._heap, (expires, key))
        self._per_creator[packet.creator_id] = self._per_creator.get(packet.creator_id, 0) + 1
        return False
