"""What a replay guard hands the next run, and what of it is still true when the next run starts.

Surviving a restart
-------------------
Forgetting everything at a restart would reopen every packet accepted in the last ten minutes, so
the guard's state goes to disk (:mod:`bitdust.p2p.replay_store`):
:meth:`~bitdust.p2p.replay.ReplayGuard.export` gives the creators' floors and the ids still inside
the window as a :class:`ReplayState`, :meth:`~bitdust.p2p.replay.ReplayGuard.restore` loads them
back, dropping what expired meanwhile (:func:`live_creators`) and applying the guard's bounds to
the rest the same way (fold into floors, never forget above one). After a **clean stop** the last
save was taken once the gateway had stopped accepting, so it holds everything and costs nobody
anything.

After a **crash** the last save misses what was accepted between it and the crash: unknown ids,
from known or unknown creators, dated wherever the window allowed. That window still bounds them:
a packet accepted at time ``t`` was dated at most ``t + future``, and every ``t`` of the previous
run is before this start (and after the save's own ``saved_at``, whichever clock reads later). So
a dirty state is restored together with one **common floor**, for every creator, at
``max(now, saved_at) + future``: nothing the previous run accepted is dated above it, so nothing it
accepted can be accepted again. It costs honest peers the future side of the window, a minute: a
peer's packets are refused until they are dated after the common floor (for a peer whose clock is
behind ours, that much longer), then the floor expires by itself like any other. The floor is part
of the saved state, so a second crash within that minute keeps it. Cheaper rules are unsound: a
per-creator floor at "the newest date seen at the save" lets through a packet accepted after the
save and dated later, and a floor at ``saved_at + save interval + future`` trusts that the previous
run never accepted a packet later than one interval after its last successful save, which a slow
or failing disk breaks (and after a quick restart, the usual crash, ``now`` is hardly later). A
state that cannot be read at all (a corrupt file) is treated like a crash whose save is lost:
:meth:`~bitdust.p2p.replay.ReplayGuard.cover_unknown_history` puts the common floor at
``now + future``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import attrs

NO_FLOOR = -math.inf
"""The floor of a creator that has none: every date is above it."""


@attrs.frozen
class ReplayState:
    """What a guard remembers, as plain values: what one run hands the next one.

    ``clean`` says the state is complete (taken after the gateway stopped accepting packets);
    ``floor_all`` is the common floor (every creator's packets dated at or before it count as seen).
    The creators are flat, parallel lists (``names[i]`` has floor ``floors[i]``, None for none, and
    the next ``counts[i]`` items of ``ids`` and ``dates``): copying them makes a handful of
    containers instead of one per creator, which keeps :meth:`~bitdust.p2p.replay.ReplayGuard.export`
    cheap on the reactor thread even with 100,000 creators (the garbage collector, not the copying,
    is what a dict per creator costs).
    """

    saved_at: float
    clean: bool
    floor_all: float | None
    names: Sequence[str] = ()
    floors: Sequence[float | None] = ()
    counts: Sequence[int] = ()
    ids: Sequence[str] = ()
    dates: Sequence[float] = ()

    @property
    def entries(self) -> int:
        return len(self.ids)

    def creators(self) -> Iterator[tuple[str, float | None, Iterator[tuple[str, float]]]]:
        """Each creator's name, floor and (packet_id, date) pairs."""
        offset = 0
        for name, floor, count in zip(self.names, self.floors, self.counts, strict=True):
            yield name, floor, zip(self.ids[offset : offset + count], self.dates[offset : offset + count], strict=True)
            offset += count

    def by_creator(self) -> dict[str, tuple[float | None, dict[str, float]]]:
        """The same as a dictionary (for reading it, not for the reactor thread)."""
        return {name: (floor, dict(seen)) for name, floor, seen in self.creators()}


LiveCreators = dict[str, tuple[float, dict[str, float]]]
"""Creator -> (floor, or :data:`NO_FLOOR`; packet_id -> date, every date above the floor)."""


def live_creators(state: ReplayState, *, now: float, past: float, future: float) -> tuple[LiveCreators, float]:
    """The creators of ``state`` still inside a window of ``past``/``future`` seconds at ``now``, and its common floor.

    What has expired is left out (a creator left with nothing is left out whole); the common floor
    is :data:`NO_FLOOR` when the state has none. ValueError for a state no guard with this window
    could have written: a date that is not a finite number, or after ``saved_at`` plus the future
    side of the window, lists that do not match, a creator listed twice.
    """
    horizon = now - past
    latest = max(now, finite(state.saved_at)) + future

    def valid(date: float) -> float:
        if finite(date) > latest:
            raise ValueError(f"a date {date} after the latest this guard could have accepted ({latest})")
        return date

    if any(isinstance(count, bool) or not isinstance(count, int) or count < 0 for count in state.counts):
        raise ValueError("a count of ids that is not a number of ids")
    if not len(state.names) == len(state.floors) == len(state.counts) or not (
        sum(state.counts) == len(state.ids) == len(state.dates)
    ):
        raise ValueError("the lists of the state do not match")
    if len(set(state.names)) != len(state.names):
        raise ValueError("a creator listed twice")
    loaded: LiveCreators = {}
    for name, saved_floor, pairs in state.creators():
        floor = saved_floor if saved_floor is not None and valid(saved_floor) >= horizon else NO_FLOOR
        seen: dict[str, float] = {}
        for packet_id, date in pairs:
            if valid(date) >= horizon and date > floor:
                seen[packet_id] = date
        if seen or floor != NO_FLOOR:
            loaded[name] = (floor, seen)
    floor_all = NO_FLOOR if state.floor_all is None else valid(state.floor_all)
    return loaded, floor_all


def finite(value: float) -> float:
    """``value`` as a float; ValueError unless it is a finite number (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite date")
    return float(value)
