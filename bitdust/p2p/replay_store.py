"""The replay guard's memory on disk, so a packet accepted before a restart is refused after it.

:class:`ReplayStore` keeps one :class:`~bitdust.p2p.replay.ReplayGuard`'s state in one file
(``<home>/metadata/replayguard``) across the life of the gateway:

1. **Load**, before the gateway is handed any packet: the file is read, decoded and restored
   into the fresh guard in a worker thread (what expired meanwhile is dropped, the bounds apply).
   A file that is corrupt, oversized or dated impossibly is logged and its content ignored, and the
   guard covers the unknown history instead, as after a crash (never fatal: the node starts).
2. **Mark it dirty**, still before any packet: the state just loaded is written back at once with
   ``clean`` false, so that from now on a crash can never be mistaken for the clean stop that wrote
   the file. Only then is the load's Deferred fired.
3. **Save while it changes**: every ``interval`` seconds, if the guard changed since the last copy,
   a copy is taken on the reactor thread (a few flat lists) and encoded and written
   atomically in a worker thread. One write at a time; a tick during a write waits for the next.
4. **Stop**: once the gateway accepts nothing more, the write in flight is waited for and the final
   state is written with ``clean`` true.

A failed write is logged and retried at the next tick; the guard keeps working in memory. Why a
dirty file is restored with a common floor, and why that floor is where it is, is explained in
:mod:`bitdust.p2p.replay_state` ("Surviving a restart").

The file is msgpack: ``[MAGIC, VERSION, saved_at, clean, floor_all, names, floors, counts, ids,
dates]``, the flat lists of :class:`~bitdust.p2p.replay_state.ReplayState`, ``None`` for "no floor". It
is read with a size bound derived from the guard's own bounds, so a file that no guard of this
node could have written is refused before it is read into memory.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import msgpack
from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.collaborators import RunBlocking
from bitdust.main.logs import log_failure
from bitdust.main.process.fileutil import atomic_write
from bitdust.p2p.packet import DEFAULT_LIMITS, Limits
from bitdust.p2p.replay import ReplayGuard
from bitdust.p2p.replay_state import ReplayState

MAGIC = "bitdust-replay-guard"
VERSION = 1
_UTF8_MAX = 4
"""Bytes per character at most in UTF-8: ids are bounded in characters."""


class ReplayStateError(ValueError):
    """The file does not hold a state this node could have written (corrupt, oversized, wrong format)."""


def size_bound(guard: ReplayGuard, limits: Limits = DEFAULT_LIMITS) -> int:
    """The most bytes a state of ``guard`` can encode to: every id and every creator at their longest."""
    per_id = _UTF8_MAX * limits.max_packet_id + 16
    per_creator = _UTF8_MAX * limits.max_id + 32
    return 256 + guard.max_total * per_id + guard.max_creators * per_creator


def encode(state: ReplayState) -> bytes:
    fields = [MAGIC, VERSION, state.saved_at, state.clean, state.floor_all]
    fields += [state.names, state.floors, state.counts, state.ids, state.dates]
    return msgpack.packb(fields, use_bin_type=True)


def decode(data: bytes, *, max_bytes: int, limits: Limits = DEFAULT_LIMITS) -> ReplayState:
    """The state in ``data``; ReplayStateError for anything else, never another exception."""
    if len(data) > max_bytes:
        raise ReplayStateError(f"{len(data)} bytes, more than the {max_bytes} any state of this guard takes")
    try:
        fields = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ReplayStateError(f"not msgpack: {exc}") from None
    if not isinstance(fields, list) or len(fields) != 10 or fields[:2] != [MAGIC, VERSION]:
        raise ReplayStateError(f"not a {MAGIC} state of version {VERSION}")
    _, _, saved_at, clean, floor_all, names, floors, counts, ids, dates = fields
    if not isinstance(clean, bool) or not all(isinstance(part, list) for part in (names, floors, counts, ids, dates)):
        raise ReplayStateError("malformed header")
    if not all(_is_text(name, limits.max_id) for name in names):
        raise ReplayStateError("a creator that is not an IDURL-sized text")
    if not all(_is_text(packet_id, limits.max_packet_id) for packet_id in ids):
        raise ReplayStateError("a packet id that is not a packet id")
    if any(isinstance(count, bool) or not isinstance(count, int) or count < 0 for count in counts):
        raise ReplayStateError("a count of ids that is not a number of ids")
    if not len(names) == len(floors) == len(counts) or not sum(counts) == len(ids) == len(dates):
        raise ReplayStateError("lists of different lengths")
    return ReplayState(
        saved_at=_date(saved_at),
        clean=clean,
        floor_all=None if floor_all is None else _date(floor_all),
        names=names,
        floors=[None if floor is None else _date(floor) for floor in floors],
        counts=counts,
        ids=ids,
        dates=[_date(date) for date in dates],
    )


def read(path: Path, *, max_bytes: int, limits: Limits = DEFAULT_LIMITS) -> ReplayState | None:
    """Blocking: the state saved at ``path``, None when there is none; ReplayStateError when unusable."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > max_bytes:
                raise ReplayStateError(f"{size} bytes, more than the {max_bytes} any state of this guard takes")
            data = file.read(size + 1)  # never a buffer of max_bytes; atomic replaces never grow a file
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ReplayStateError(f"cannot read it: {exc}") from None
    return decode(data, max_bytes=max_bytes, limits=limits)


def load_into(guard: ReplayGuard, path: Path, *, max_bytes: int, limits: Limits = DEFAULT_LIMITS) -> ReplayState | None:
    """Blocking: read the state at ``path`` and restore it into ``guard``, which nothing else uses yet.

    The state restored, None when there is none; ReplayStateError (and ``guard`` unchanged) when
    it is unusable.
    """
    state = read(path, max_bytes=max_bytes, limits=limits)
    if state is not None:
        try:
            guard.restore(state)
        except ValueError as exc:
            raise ReplayStateError(str(exc)) from None
    return state


def write(path: Path, state: ReplayState) -> int:
    """Blocking: encode ``state`` and replace ``path`` with it atomically; the bytes written."""
    data = encode(state)
    atomic_write(path, data, mode=0o600)
    return len(data)


class ReplayStore:
    """Loads ``guard`` from ``path`` once, saves it every ``interval`` seconds while it changes and at stop.

    ``run_blocking`` is the engine's worker-thread call: the file is read and written only there.
    """

    def __init__(
        self,
        guard: ReplayGuard,
        path: Path,
        *,
        clock: IReactorTime,
        run_blocking: RunBlocking,
        interval: float = 5.0,
        log: Logger | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        if not interval > 0:
            raise ValueError("the save interval must be positive")
        self.guard = guard
        self.path = Path(path)
        self.clock = clock
        self.run_blocking = run_blocking
        self.interval = float(interval)
        self.log = log or Logger()
        self.limits = limits
        self.max_bytes = size_bound(guard, limits)
        #: ``guard.changes`` when the copy last written was taken
        self._copied: int | None = None
        #: one write at a time, in the order they were asked for
        self._lock = defer.DeferredLock()
        self._loop: task.LoopingCall | None = None
        self.saves = 0
        self.failed_saves = 0
        self.last_size = 0

    def load(self) -> defer.Deferred[None]:
        """Restore the saved state (or cover what it cannot tell), then mark the file dirty; fires when done."""
        # The guard is restored in the worker thread too: with 100,000 creators that takes a second,
        # and no packet reaches the gateway before this Deferred fires.
        d = self.run_blocking(load_into, self.guard, self.path, max_bytes=self.max_bytes, limits=self.limits)
        done: defer.Deferred[None] = d.addCallbacks(self._restored, self._unreadable)
        return done.addCallback(lambda _: self.save())

    def _restored(self, state: ReplayState | None) -> None:
        if state is None:
            self.log.info("no replay memory at {path}: a first start", path=str(self.path))
            return
        self.log.info(
            "replay memory restored from {path}: {entries} ids of {creators} creators ({how} stop)",
            path=str(self.path),
            entries=len(self.guard),
            creators=self.guard.creators,
            how="clean" if state.clean else "unclean",
        )

    def _unreadable(self, failure: Failure) -> None:
        failure.trap(ReplayStateError)
        self._ignore(failure.getErrorMessage())

    def _ignore(self, reason: str) -> None:
        self.log.error(
            "replay memory at {path} ignored ({reason}); packets dated before {until} are refused as replays",
            path=str(self.path),
            reason=reason,
            until=self.clock.seconds() + self.guard.future_seconds,
        )
        self.guard.cover_unknown_history()

    def start(self) -> None:
        """Save every ``interval`` seconds while the guard changes."""
        self._loop = task.LoopingCall(self._tick)
        self._loop.clock = self.clock
        self._loop.start(self.interval, now=False).addErrback(log_failure(self.log, "replay memory saving stopped"))

    def _tick(self) -> None:
        if not self._lock.locked and self.guard.changes != self._copied:
            self.save()

    def save(self, *, clean: bool = False) -> defer.Deferred[None]:
        """Write the guard's state as it is when the write in flight is done; fires when written, never fails."""
        d: defer.Deferred[None] = self._lock.run(self._write, clean)
        return d.addErrback(log_failure(self.log, "saving the replay memory failed"))

    def _write(self, clean: bool) -> defer.Deferred[None]:
        changes = self.guard.changes
        state = self.guard.export(clean=clean)

        def written(size: int) -> None:
            self._copied = changes
            self.saves += 1
            self.last_size = size

        def failed(failure: Failure) -> None:
            self.failed_saves += 1
            self.log.error(
                "saving the replay memory to {path} failed: {reason}",
                path=str(self.path),
                reason=failure.getErrorMessage(),
            )

        return self.run_blocking(write, self.path, state).addCallbacks(written, failed)

    def stop(self) -> defer.Deferred[None]:
        """Call once nothing is accepted any more: the final, clean save."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
        return self.save(clean=True)


def _is_text(value: object, bound: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= bound


def _date(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReplayStateError(f"{value!r:.40} is not a date")
    return float(value)
