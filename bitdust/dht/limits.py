"""Who a datagram is from, for every per-sender limit, and the token buckets those limits use.

A sender is not its UDP address: one host has 65,535 source ports, so a limit per ``host:port``
is a limit per whatever the attacker likes. :func:`sender_of` names the party behind an address:
the IPv4 host, or the /64 network of an IPv6 host (one subscriber's usual allocation). On the
loopback interface every port is a separate party: those are processes of this machine (a
sandbox of many nodes), which could do far worse than flood us.

Node ids are not senders: anyone can claim any id, so no limit is keyed by one.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import OrderedDict
from collections.abc import Hashable

from twisted.internet.interfaces import IReactorTime

Address = tuple[str, int]


@functools.lru_cache(maxsize=8192)
def sender_of(address: Address) -> str:
    """The party a limit counts ``address`` against (see the module's docstring)."""
    host, port = address
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # (not an IP literal: only in tests that name their hosts)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return f"{ip}:{port}"
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class TokenBuckets:
    """A token bucket per key (``rate`` per second, up to ``burst``), in a bounded LRU table.

    A key pushed out of the table comes back with a full bucket; ``max_keys`` is set so that an
    attacker needs more distinct senders than it can have to make that happen for itself.
    """

    def __init__(self, clock: IReactorTime, rate: float, burst: float, max_keys: int = 4096) -> None:
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._max = max_keys
        self._keys: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def available(self, key: Hashable) -> float:
        """Tokens ``key`` has now (``burst`` for a key not seen lately)."""
        if self.rate <= 0:
            return float("inf")
        now = self._clock.seconds()
        tokens, last = self._keys.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def take(self, key: Hashable, amount: float = 1.0) -> bool:
        """Spend ``amount`` tokens of ``key`` if it has them; False (nothing spent) otherwise."""
        if self.rate <= 0:
            return True
        tokens = self.available(key)
        allowed = tokens >= amount
        self._keys.pop(key, None)
        self._keys[key] = (tokens - amount if allowed else tokens, self._clock.seconds())
        while len(self._keys) > self._max:
            self._keys.popitem(last=False)
        return allowed


class Refusals:
    """How many STOREs each sender had refused, and why: the per-host record of bad input.

    Bounded like :class:`TokenBuckets` (the least recently refused sender goes first), so an
    attacker with many addresses can only push its own older counts out.
    """

    def __init__(self, max_senders: int = 4096) -> None:
        self._max = max_senders
        self._senders: OrderedDict[str, dict[str, int]] = OrderedDict()
        #: refusals per reason, over every sender ever seen
        self.totals: dict[str, int] = {}

    def count(self, sender: str, reason: str) -> None:
        counts = self._senders.pop(sender, None) or {}
        counts[reason] = counts.get(reason, 0) + 1
        self._senders[sender] = counts
        self.totals[reason] = self.totals.get(reason, 0) + 1
        while len(self._senders) > self._max:
            self._senders.popitem(last=False)

    def of(self, sender: str) -> dict[str, int]:
        """The refusals of ``sender`` per reason (empty: none, or long ago)."""
        return dict(self._senders.get(sender, {}))

    def total_of(self, sender: str) -> int:
        return sum(self._senders.get(sender, {}).values())

    def to_json(self) -> dict[str, object]:
        worst = sorted(self._senders, key=self.total_of, reverse=True)[:10]
        return {"by_reason": dict(self.totals), "top_senders": {s: self.total_of(s) for s in worst}}
