"""Whose values a node keeps when strangers flood it: a quota per sender and an eviction order.

Every value a peer stores is charged to its *sender* (the host that sent the STORE, see
:func:`~bitdust.dht.limits.sender_of`; STOREs come only from addresses that proved themselves,
so a sender cannot be forged). A sender holds at most ``max_per_sender`` values. When the store
is full a new value may push out an old one, chosen in this order:

1. anonymous values (record types nobody signs) before signed ones: a signed record speaks for
   a user whose identity key checked it, an anonymous one for whoever sent it;
2. within a rank, a value of the sender holding the most values of that rank, its oldest first;
3. a value of the same rank goes only for a sender that holds fewer of them than the victim's
   sender minus one, so a flooder pushes out its own values, never those of a lighter sender.

Values this node published itself are never charged and never pushed out.
"""

from __future__ import annotations

from collections import OrderedDict

from bitdust.dht.records import RECORD_TYPES

StoreKey = tuple[int, str]

ANONYMOUS = 0
SIGNED = 1

#: record types that carry their user's own signature without naming a signer field: an
#: ``identity`` record is the user's self-signed document, checked by that type's rule
_SELF_SIGNED = frozenset({"identity"})


def record_rank(record_type: str) -> int:
    """:data:`SIGNED` for record types signed by the user they speak for, else :data:`ANONYMOUS`."""
    kind = RECORD_TYPES.get(record_type)
    if kind is not None and (kind.signer is not None or kind.name in _SELF_SIGNED):
        return SIGNED
    return ANONYMOUS


class _Rank:
    """The values of one rank per sender, with the heaviest sender found in O(1)."""

    __slots__ = ("keys", "by_count", "top")

    def __init__(self) -> None:
        self.keys: dict[str, OrderedDict[StoreKey, None]] = {}
        self.by_count: dict[int, set[str]] = {}
        self.top = 0

    def count(self, sender: str) -> int:
        keys = self.keys.get(sender)
        return len(keys) if keys is not None else 0

    def _move(self, sender: str, old: int, new: int) -> None:
        if old:
            holders = self.by_count[old]
            holders.discard(sender)
            if not holders:
                del self.by_count[old]
        if new:
            self.by_count.setdefault(new, set()).add(sender)
        if new > self.top:
            self.top = new
        while self.top and self.top not in self.by_count:
            self.top -= 1

    def add(self, sender: str, key: StoreKey) -> None:
        keys = self.keys.setdefault(sender, OrderedDict())
        if key in keys:
            return
        keys[key] = None
        self._move(sender, len(keys) - 1, len(keys))

    def remove(self, sender: str, key: StoreKey) -> None:
        keys = self.keys.get(sender)
        if keys is None or key not in keys:
            return
        del keys[key]
        self._move(sender, len(keys) + 1, len(keys))
        if not keys:
            del self.keys[sender]

    def heaviest(self) -> tuple[str, int] | None:
        if not self.top:
            return None
        return next(iter(self.by_count[self.top])), self.top


class Ledger:
    """Who each kept value is charged to; picks what to push out when the store is full."""

    def __init__(self) -> None:
        self._ranks = {ANONYMOUS: _Rank(), SIGNED: _Rank()}
        self._charged: dict[StoreKey, tuple[int, str]] = {}
        self._totals: dict[str, int] = {}

    def total(self, sender: str) -> int:
        return self._totals.get(sender, 0)

    def charged_to(self, key: StoreKey) -> str | None:
        charge = self._charged.get(key)
        return charge[1] if charge is not None else None

    def charge(self, key: StoreKey, rank: int, sender: str) -> None:
        self.release(key)
        self._charged[key] = (rank, sender)
        self._ranks[rank].add(sender, key)
        self._totals[sender] = self._totals.get(sender, 0) + 1

    def release(self, key: StoreKey) -> None:
        charge = self._charged.pop(key, None)
        if charge is None:
            return
        rank, sender = charge
        self._ranks[rank].remove(sender, key)
        left = self._totals[sender] - 1
        if left:
            self._totals[sender] = left
        else:
            del self._totals[sender]

    def victim(self, rank: int, sender: str) -> StoreKey | None:
        """The value a new value of ``rank`` from ``sender`` may push out, or None (the store is full)."""
        for victim_rank in (ANONYMOUS, SIGNED):
            if victim_rank > rank:
                return None
            heaviest = self._ranks[victim_rank].heaviest()
            if heaviest is None:
                continue
            victim_sender, count = heaviest
            if victim_rank < rank or count > self._ranks[victim_rank].count(sender) + 1:
                return next(iter(self._ranks[victim_rank].keys[victim_sender]))
            return None  # (a same-rank value of a lighter or equal sender stays)
        return None
