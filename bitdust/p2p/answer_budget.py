"""How many signed answers the gateway may send that no handler decided on.

Every answer is a packet we sign with our master key: far more work for us (2048 or 4096 bits)
than a throwaway identity's 1024-bit signature on the packet that asked for it. Most answers
are a handler's verdict and cost what the handler's work costs. Two kinds are not, and a peer can ask
for them as fast as it can sign: ``Fail`` to a command this node has no handler for, and the same
answer again to a packet it already answered (a sender whose answer was lost retries; a replayer
just sends the captured packet again). Those two come out of this budget: a token bucket per
creator, so a flooder empties only its own, and one for the whole node, so many flooders together
are bounded too. Past the budget the packet is dropped unanswered: its sender times out, which a
sender must be ready for anyway.
"""

from __future__ import annotations

import collections

from twisted.internet.interfaces import IReactorTime


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp

    def refill(self, now: float, rate: float, burst: float) -> None:
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now


class AnswerBudget:
    """``allow(creator)`` takes one answer from ``creator``'s bucket and the node's, or says no.

    Per creator: ``burst`` answers at once, ``rate`` a second after that. For the node:
    ``node_burst`` and ``node_rate``. At most ``max_creators`` buckets are kept; forgetting the
    least recently used one gives that creator a full bucket again, which the node bucket bounds.
    """

    def __init__(
        self,
        clock: IReactorTime,
        *,
        rate: float = 2.0,
        burst: float = 20.0,
        node_rate: float = 50.0,
        node_burst: float = 200.0,
        max_creators: int = 4096,
    ) -> None:
        if min(rate, burst, node_rate, node_burst) <= 0 or max_creators <= 0:
            raise ValueError("answer budgets must be positive")
        self._clock = clock
        self.rate, self.burst = float(rate), float(burst)
        self.node_rate, self.node_burst = float(node_rate), float(node_burst)
        self._max = max_creators
        self._node = _Bucket(self.node_burst, clock.seconds())
        self._buckets: collections.OrderedDict[str, _Bucket] = collections.OrderedDict()

    def _bucket(self, creator: str, now: float) -> _Bucket:
        bucket = self._buckets.pop(creator, None)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
        self._buckets[creator] = bucket
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        bucket.refill(now, self.rate, self.burst)
        self._node.refill(now, self.node_rate, self.node_burst)
        return bucket

    def available(self, creator: str) -> bool:
        """Whether ``allow(creator)`` would say yes now; takes and stores nothing (``creator`` may be
        a name nobody has verified yet)."""
        now = self._clock.seconds()
        bucket = self._buckets.get(creator)
        tokens = self.burst if bucket is None else min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        node = min(self.node_burst, self._node.tokens + (now - self._node.stamp) * self.node_rate)
        return tokens >= 1.0 and node >= 1.0

    def allow(self, creator: str) -> bool:
        """Take one answer for ``creator`` if both its bucket and the node's have one."""
        now = self._clock.seconds()
        bucket = self._bucket(creator, now)
        if bucket.tokens < 1.0 or self._node.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        self._node.tokens -= 1.0
        return True
