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

Across a restart the guard's state goes to disk and comes back (:meth:`ReplayGuard.export`,
:meth:`ReplayGuard.restore`); :mod:`bitdust.p2p.replay_state` says what a saved state holds and why
a state saved before a crash comes back with a common floor.
"""

from __future__ import annotations

import heapq
from typing import Protocol

from twisted.internet.interfaces import IReactorTime

from bitdust.p2p.packet import DEFAULT_LIMITS
from bitdust.p2p.replay_state import NO_FLOOR, ReplayState, finite, live_creators

_FLOOR = ""
"""The packet id of a floor's heap item: no packet has an empty id."""


class Stamped(Protocol):
    """What the guard reads of a packet (a :class:`~bitdust.p2p.packet.Packet`, or a stand-in in a benchmark)."""

    @property
    def creator_id(self) -> str: ...

    @property
    def packet_id(self) -> str: ...

    @property
    def date(self) -> float: ...


class _Creator:
    """What the guard holds for one creator: a floor date and the ids accepted above it."""

    __slots__ = ("floor", "seen")

    def __init__(self) -> None:
        self.floor = NO_FLOOR
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
        #: the common floor: every creator's packets dated at or before it count as seen
        self._floor_all = NO_FLOOR
        #: (date, creator, packet_id or _FLOOR): what to forget when; may hold stale items
        self._heap: list[tuple[float, str, str]] = []
        #: creators by how many ids they hold, to find the largest in O(1)
        self._by_size: dict[int, set[str]] = {}
        self._largest = 0
        #: packets refused because no creator could be made room for (see the module docstring)
        self.refused_newcomers = 0
        #: how often a creator's ids were folded into its floor, for its own bound or the total's
        self.compactions = 0
        #: packets refused by the common floor (after a crash, see the module docstring)
        self.refused_by_common_floor = 0
        #: grows with every change of what is remembered (expiry aside): a saver compares it
        self.changes = 0

    def __len__(self) -> int:
        """The exact packet ids held now (floors not counted)."""
        self._expire(self._clock.seconds())
        return self._entries

    @property
    def future_seconds(self) -> float:
        return self._future

    @property
    def max_per_creator(self) -> int:
        return self._max_per_creator

    @property
    def max_total(self) -> int:
        return self._max_total

    @property
    def max_creators(self) -> int:
        return self._max_creators

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
        if self._floor_all < horizon:
            self._floor_all = NO_FLOOR
        heap = self._heap
        while heap and heap[0][0] < horizon:
            date, name, packet_id = heapq.heappop(heap)
            creator = self._creators.get(name)
            if creator is None:
                continue
            if packet_id == _FLOOR:
                if creator.floor != date:
                    continue  # a floor since raised
                creator.floor = NO_FLOOR
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
            if creator.floor != NO_FLOOR:
                items.append((creator.floor, name, _FLOOR))
        heapq.heapify(items)
        self._heap = items

    def _raise_floor(self, name: str, creator: _Creator, floor: float) -> None:
        if floor > creator.floor:
            creator.floor = floor
            heapq.heappush(self._heap, (floor, name, _FLOOR))
            self.changes += 1

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
        self.changes += 1

    # -- the two questions ----------------------------------------------------------------------

    def seen(self, packet: Stamped) -> bool:
        """True if ``packet`` is already remembered (by its id, or as dated under its creator's floor).

        A pure question, safe before verification: it changes nothing a sender could aim at.
        """
        self._expire(self._clock.seconds())
        if packet.date <= self._floor_all:
            return True
        creator = self._creators.get(packet.creator_id)
        return creator is not None and (packet.date <= creator.floor or packet.packet_id in creator.seen)

    def check_and_remember(self, packet: Stamped) -> bool:
        """True means "do not act on it": a replay, outside the date window, or no creator to make room for.

        Call it only for verified packets: what it remembers is what a creator has spent of its budget.
        """
        now = self._clock.seconds()
        self._expire(now)
        name, date = packet.creator_id, packet.date
        if date < now - self._past or date > now + self._future:
            return True
        if date <= self._floor_all:
            self.refused_by_common_floor += 1
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
        self.changes += 1
        self._entries += 1
        self._resized(name, len(creator.seen) - 1, len(creator.seen))
        heapq.heappush(self._heap, (date, name, packet.packet_id))
        return False

    # -- across a restart (see "Surviving a restart" in the module docstring) ---------------------

    def export(self, *, clean: bool = False) -> ReplayState:
        """A copy of what is remembered now (expired entries left out), cheap enough for the reactor thread.

        ``clean`` only when nothing can be accepted any more (the gateway stopped): it says the copy
        is complete, so the next run restores it without a common floor.
        """
        now = self._clock.seconds()
        self._expire(now)
        creators = self._creators.values()
        ids: list[str] = []
        dates: list[float] = []
        for creator in creators:
            ids.extend(creator.seen)
            dates.extend(creator.seen.values())
        return ReplayState(
            saved_at=now,
            clean=clean,
            floor_all=None if self._floor_all == NO_FLOOR else self._floor_all,
            names=list(self._creators),
            floors=[None if creator.floor == NO_FLOOR else creator.floor for creator in creators],
            counts=[len(creator.seen) for creator in creators],
            ids=ids,
            dates=dates,
        )

    def restore(self, state: ReplayState) -> None:
        """Remember again what an earlier run's guard remembered; only into a guard that remembers nothing yet.

        What expired since is dropped, the bounds apply as if the packets had arrived now (ids fold
        into floors, creators beyond ``max_creators`` fold into the common floor), and a state that
        is not ``clean`` also gets the common floor of a crash. ValueError, with nothing changed,
        for a state no guard with this window could have written (a date that is not a finite
        number, or after ``saved_at`` plus the future side of the window, lists that do not match).

        It may run in a worker thread while nothing else uses this guard yet (a gateway that is not
        handed packets before its replay memory is loaded): it only reads the clock.
        """
        if self._creators or self._floor_all != NO_FLOOR:
            raise RuntimeError("restore only into a guard that remembers nothing yet")
        now = self._clock.seconds()
        horizon = now - self._past
        live, floor_all = live_creators(state, now=now, past=self._past, future=self._future)
        loaded: dict[str, _Creator] = {}
        for name, (floor, seen) in live.items():
            creator = loaded[name] = _Creator()
            creator.floor = floor
            creator.seen = seen
        if len(loaded) > self._max_creators:
            # Keep the creators with the newest packets; the others' packets count as seen for everyone.
            by_newest = sorted(loaded, key=lambda name: _newest(loaded[name]), reverse=True)
            for name in by_newest[self._max_creators :]:
                floor_all = max(floor_all, _newest(loaded.pop(name)))
        for name, creator in loaded.items():
            self._creators[name] = creator
            self._entries += len(creator.seen)
            self._resized(name, 0, len(creator.seen))
            while len(creator.seen) > self._max_per_creator:
                self._fold(name, creator)
        while self._entries > self._max_total:
            if self._largest >= 2:
                largest = next(iter(self._by_size[self._largest]))
                self._fold(largest, self._creators[largest])
            else:
                single = next(iter(self._by_size[1]))
                self._fold(single, self._creators[single], everything=True)
        self._rebuild_heap()
        if floor_all >= horizon:
            self._floor_all = floor_all
        self.changes += 1
        if not state.clean:
            self.cover_unknown_history(since=state.saved_at)

    def cover_unknown_history(self, since: float | None = None) -> None:
        """Count as seen every packet an earlier run may have accepted unrecorded: dated up to now + future.

        ``since`` is when that run's last save was taken, in case our clock now reads earlier.
        """
        now = self._clock.seconds()
        floor = max(now, now if since is None else finite(since)) + self._future
        if floor > self._floor_all:
            self._floor_all = floor
            self.changes += 1


def _newest(creator: _Creator) -> float:
    return max(creator.floor, max(creator.seen.values(), default=NO_FLOOR))
