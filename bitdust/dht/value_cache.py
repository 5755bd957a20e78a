"""Values this node fetched from the network, so a reader may accept a recent answer again.

``dht_value_get(use_cache_ttl=N)`` accepts an answer fetched at most N seconds ago that has not
expired; a value stored here (by us or a peer) drops the cached answer for its key.
"""

from __future__ import annotations

from bitdust.dht.lookup import LookupResult


class ValueCache:
    """(layer, key) -> (fetched at, expires at, the lookup's answer)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], tuple[float, float, LookupResult]] = {}

    def get(self, layer: int, key: str, now: float, max_age: float) -> LookupResult | None:
        """The answer fetched at most ``max_age`` seconds ago and still alive, or None."""
        cached = self._entries.get((layer, key))
        if cached is not None and now - cached[0] <= max_age and cached[1] > now:
            return cached[2]
        return None

    def put(self, layer: int, key: str, now: float, until: float, result: LookupResult) -> None:
        self._entries[(layer, key)] = (now, until, result)

    def forget(self, layer: int, key: str) -> None:
        self._entries.pop((layer, key), None)

    def expire(self, now: float) -> None:
        for cache_key, (_fetched, until, _value) in list(self._entries.items()):
            if until <= now:
                del self._entries[cache_key]
