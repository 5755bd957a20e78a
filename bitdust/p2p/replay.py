"""Replay protection: remember which packets were already accepted, for as long as they could verify.

:func:`bitdust.p2p.packet.verify` accepts a packet dated from ``past`` seconds before now to
``future`` seconds after it, so a captured packet stays replayable until ``date + past``. The guard
remembers each creator's accepted packets exactly that long, then forgets them.

What it remembers of one creator is a **floor** (a date: every packet of that creator dated at or
before it counts as seen) and the exact packet ids accepted since, each with its date. Bounds never
make the guard refuse everyone, and never reopen a replay:

* A creator may hold ``max_per_creator`` exact ids. One more folds the oldest half of them into its
  floor. Nothing it sent can be replayed (what was forgotten is under the floor); what it loses is
  the packets dated under the floor that have not arrived yet. That is the flooder's cost, and an
  honest peer sending in date order rarely notices.
* All creators together hold ``max_total`` exact ids. One more folds the oldest half of the
  *largest* creator's ids into its floor: the flooder pays, its victims' peers do not.
* In the extreme where every creator holds at most one id (``max_total`` distinct creators active
  within one window), the new packet itself is folded into its creator's floor.
* At most ``max_creators`` creators are tracked; a packet of an untracked creator beyond that is
  refused. That is the one refusal, it reaches only newcomers, and only when that many verified
  identities are active at once: the peers a node already talks to keep working.

The guard is consulted twice by the gateway: :meth:`ReplayGuard.seen` before the creator's identity
is fetched or its signature checked (a replay costs a dictionary lookup, not an RSA operation), and
:meth:`ReplayGuard.check_and_remember` after verification, which is the one that decides. The state
only ever grows from verified packets, so nobody can spend another creator's budget by naming it.
"""

from __future__ import annotations

import heapq
import math

from twisted.internet.interfaces import IReactorTime

from bitdust.p2p.packet import DEFAULT_LIMITS, Packet

_NO_FLOOR = -math.inf
_FLOOR = ""
"""The packet id of a floor's heap item: no packet has an empty id."""


class _Creator:
    """What the guard holds for one creator: a floor date and the ids accepted above it."""

    __slots__ = ("floor", "seen")

    def __init__(self) -> None:
        self.floor = _NO_FLOOR
        #: packet_id -> date; every date here is above ``floor``
        self.seen: dict[str, float] = {}


class ReplayGuard:
    """Say whether a packet was seen before; ``clock`` is any ``IReactorTime`` (``task.Clock`` in tests).

    ``window_seconds`` is the past side of the date window, ``future_seconds`` its future side.
    """

    def __init__(
        self,
        clock: IReactorTime,
        window_seconds: float = DEFAULT_LIMITS.max_skew,
        *,
        future_seconds: float = DEFAULT_LIMITS.max_future_skew,
        max_per_creator: int = 1_000,
        max_total: int = 100_000,
        max_creators: int | None = None,
    ) -> None:
        max_creators = max_total if max_creators is None else max_creators
        if window_seconds <= 0 or future_seconds <= 0:
            raise ValueError("the window must be positive on both sides")
        if max_per_creator < 2 or max_total < 2 or max_creators <= 0:
            raise ValueError("bounds must be positive (and room for two ids per creator and in total)")
        self._clock = clock
        self._past = float(window_seconds)
        self._future = float(future_seconds)
        self._max_per_creator = max_per_creator
        self._max_total = max_total
        self._max_creators = max_creators
        self._creators: dict[str, _Creator] = {}
        self._entries = 0
        #: (date, creator, packet_id or _FLOOR): what to forget when; may hold stale items
        self._heap: list[tuple[float, str, str]] = []
        #: creators by how many ids they hold, to find the largest in O(1)
        self._by_size: dict[int, set[str]] = {}
        self._largest = 0
        #: packets refused because no creator could be made room for (see the module docstring)
        self.refused_newcomers = 0
        #: how often a creator's ids were folded into its floor, for its own bound or the total's
        self.compactions = 0

    def __len__(self) -> int:
        """The exact packet ids held now (floors not counted)."""
        self._expire(self._clock.seconds())
        return self._entries

    @property
    def creators(self) -> int:
        """Creators tracked now (with ids, or with only a floor)."""
        self._expire(self._clock.seconds())
        return len(self._creators)

    # -- bookkeeping ------------------------------------------------------------------------------

    def _resized(self, name: str, old: int, new: int) -> None:
        if old:
            bucket = self._by_size[old]
            bucket.discard(name)
            if not bucket:
                del self._by_size[old]
        if new:
            self._by_size.setdefault(new, set()).add(name)
        self._largest = max(self._largest, new)
        while self._largest and self._largest not in self._by_size:
            self._largest -= 1

    def _drop_creator(self, name: str) -> None:
        creator = self._creators.pop(name)
        self._resized(name, len(creator.seen), 0)
        self._entries -= len(creator.seen)

    def _expire(self, now: float) -> None:
        horizon = now - self._past
        heap = self._heap
        while heap and heap[0][0] < horizon:
            date, name, packet_id = heapq.heappop(heap)
            creator = self._creators.get(name)
            if creator is None:
                continue
            if packet_id == _FLOOR:
                if creator.floor != date:
                    continue  # a floor since raised
                creator.floor = _NO_FLOOR
            elif creator.seen.get(packet_id) == date:
                del creator.seen[packet_id]
                self._entries -= 1
                self._resized(name, len(creator.seen) + 1, len(creator.seen))
            else:
                continue  # folded into the floor earlier
            if not creator.seen and creator.floor < horizon:
                self._drop_creator(name)
        if len(heap) > 2 * (self._entries + len(self._creators)) + 64:
            self._rebuild_heap()

    def _rebuild_heap(self) -> None:
        """Drop the stale items (ids folded into floors, floors raised since) in one O(n) pass."""
        items: list[tuple[float, str, str]] = []
        for name, creator in self._creators.items():
            items.extend((date, name, packet_id) for packet_id, date in creator.seen.items())
            if creator.floor != _NO_FLOOR:
                items.append((creator.floor, name, _FLOOR))
        heapq.heapify(items)
        self._heap = items

    def _raise_floor(self, name: str, creator: _Creator, floor: float) -> None:
        if floor > creator.floor:
            creator.floor = floor
            heapq.heappush(self._heap, (floor, name, _FLOOR))

    def _fold(self, name: str, creator: _Creator, *, everything: bool = False) -> None:
        """Forget the oldest half of ``creator``'s ids (or all of them), raising its floor over them."""
        before = len(creator.seen)
        if not before:
            return
        dates = sorted(creator.seen.values())
        cutoff = dates[-1] if everything else dates[before // 2 - 1 if before > 1 else 0]
        creator.seen = {packet_id: date for packet_id, date in creator.seen.items() if date > cutoff}
        self._entries -= before - len(creator.seen)
        self._resized(name, before, len(creator.seen))
        self._raise_floor(name, creator, cutoff)
        self.compactions += 1

    # -- the two questions ----------------------------------------------------------------------

    def seen(self, packet: Packet) -> bool:
        """True if ``packet`` is already remembered (by its id, or as dated under its creator's floor).

        A pure question, safe before verification: it changes nothing a sender could aim at.
        """
        self._expire(self._clock.seconds())
        creator = self._creators.get(packet.creator_id)
        return creator is not None and (packet.date <= creator.floor or packet.packet_id in creator.seen)

    def check_and_remember(self, packet: Packet) -> bool:
        """True means "do not act on it": a replay, outside the date window, or no creator to make room for.

        Call it only for verified packets: what it remembers is what a creator has spent of its budget.
        """
        now = self._clock.seconds()
        self._expire(now)
        name, date = packet.creator_id, packet.date
        if date < now - self._past or date > now + self._future:
            return True
        creator = self._creators.get(name)
        if creator is not None:
            if date <= creator.floor or packet.packet_id in creator.seen:
                return True
        elif len(self._creators) >= self._max_creators:
            self.refused_newcomers += 1
            return True
        else:
            creator = self._creators[name] = _Creator()
        if len(creator.seen) >= self._max_per_creator:
            self._fold(name, creator)
        elif self._entries >= self._max_total:
            largest = next(iter(self._by_size[self._largest])) if self._largest >= 2 else None
            if largest is not None:
                self._fold(largest, self._creators[largest])
            else:
                # Every creator holds one id at most: this packet goes straight into its creator's floor.
                self._fold(name, creator, everything=True)
                self._raise_floor(name, creator, date)
                return False
        if date <= creator.floor:
            return True  # older than what this creator just had to forget: it may be a replay
        creator.seen[packet.packet_id] = date
        self._entries += 1
        self._resized(name, len(creator.seen) - 1, len(creator.seen))
        heapq.heappush(self._heap, (date, name, packet.packet_id))
        return False
