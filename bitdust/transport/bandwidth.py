"""Token buckets for the node's traffic limits (``services/network/receive-limit`` / ``send-limit``).

One bucket per direction for the whole node, shared by every connection: the limit is about the
user's line, not about one peer. A bucket holds at most one second of traffic, so a burst after a
quiet spell is bounded too. ``take`` never refuses: it says how long to wait before the next
bytes, and the transport waits (it stops reading, or stops producing), which is how TCP's own
flow control then slows the other side down.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime


class TokenBucket:
    """``rate`` bytes per second; ``rate=0`` means unlimited."""

    def __init__(self, clock: IReactorTime, rate: int) -> None:
        if rate < 0:
            raise ValueError("a rate limit cannot be negative")
        self.clock = clock
        self.rate = rate
        self.level = float(rate)
        self._stamp = clock.seconds()
        self.waited = 0.0

    @property
    def unlimited(self) -> bool:
        return self.rate == 0

    def _refill(self) -> None:
        now = self.clock.seconds()
        self.level = min(float(self.rate), self.level + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self, size: int) -> float:
        """Account for ``size`` bytes; seconds to wait before more may pass (0.0: go on)."""
        if self.unlimited:
            return 0.0
        self._refill()
        self.level -= size
        if self.level >= 0:
            return 0.0
        delay = -self.level / self.rate
        self.waited += delay
        return delay

    def delay(self) -> float:
        """Seconds until the bucket is out of debt, without taking anything."""
        if self.unlimited:
            return 0.0
        self._refill()
        return max(0.0, -self.level / self.rate)
