"""Issue 11 point 5: the replay memory survives a restart, a clean stop and a crash alike.

A packet accepted before the target restarted must be refused after it. Each "run" of a node is
a new guard (or a new gateway service) on a fresh ``task.Clock`` set to where the previous run's
clock stopped, over the same home folder (``tmp_path``): what it knows of the previous run is what
is on disk. A crash is a run that is simply abandoned: its periodic saves ran, its stop did not.
The last tests mount the attack with real keys: alice's signed packet captured on its way to bob
through the two in-process gateways of ``test_gateway``'s harness, replayed after bob's gateway
service was restarted (cleanly, or after a crash).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer, task
from twisted.logger import Logger, formatEvent

from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.process.paths import HomePaths
from bitdust.main.settings.config import Config
from bitdust.p2p import commands
from bitdust.p2p import replay_store as store_module
from bitdust.p2p.packet import DEFAULT_LIMITS, Packet
from bitdust.p2p.replay import ReplayGuard
from bitdust.p2p.replay_store import ReplayStateError, ReplayStore, decode, encode, size_bound
from bitdust.services.service_gateway import GatewayService
from tests.p2p.test_gateway import ALICE, BOB, Net, outcome

START = 1_700_000_000.0
PAST = DEFAULT_LIMITS.max_skew
FUTURE = DEFAULT_LIMITS.max_future_skew
INTERVAL = 5.0
CAROL = "http://127.0.0.1:8084/carol.xml"


def make(packet_id: str, date: float, creator: str = ALICE) -> Packet:
    return Packet(command="Ack", owner_id=creator, creator_id=creator, packet_id=packet_id, date=date, remote_id=BOB)


class Blocking:
    """The engine's ``run_blocking``: records what runs, and runs it now or when ``run_queued`` is called."""

    def __init__(self, *, queued: bool = False) -> None:
        self.queued = queued
        self.queue: list[tuple[defer.Deferred[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self.calls: list[str] = []
        self.inside = False
        self.fail_writes = 0
        #: a crashed process: it does nothing any more, on disk or elsewhere
        self.dead = False

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        if self.dead:
            return d
        self.calls.append(fn.__name__)
        self.queue.append((d, fn, args, kwargs))
        if not self.queued:
            self.run_queued()
        return d

    def run_queued(self) -> None:
        while self.queue:
            d, fn, args, kwargs = self.queue.pop(0)
            if fn is store_module.write and self.fail_writes:
                self.fail_writes -= 1
                d.errback(OSError(28, "No space left on device"))
                continue
            self.inside = True
            try:
                result = defer.maybeDeferred(fn, *args, **kwargs)
            finally:
                self.inside = False
            result.chainDeferred(d)


class Run:
    """One run of a node: a guard, its store over ``path``, a clock that starts where the last run's stopped."""

    def __init__(self, path: Path, now: float, blocking: Blocking | None = None, **bounds: Any) -> None:
        self.clock = task.Clock()
        self.clock.advance(now)
        self.guard = ReplayGuard(self.clock, PAST, future_seconds=FUTURE, **bounds)
        self.blocking = blocking or Blocking()
        self.events: list[dict[str, Any]] = []
        self.store = ReplayStore(
            self.guard,
            path,
            clock=self.clock,
            run_blocking=self.blocking,
            interval=INTERVAL,
            log=Logger(observer=self.events.append),
        )

    def start(self) -> None:
        loaded = outcome(self.store.load())
        assert loaded == [None]
        self.store.start()

    def accept(self, packet: Packet) -> bool:
        """True when the guard lets ``packet`` through (``check_and_remember`` says "not seen")."""
        return not self.guard.check_and_remember(packet)

    def logged(self) -> list[str]:
        return [formatEvent(event) for event in self.events]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return HomePaths(tmp_path).replay_state


# -- a clean stop ------------------------------------------------------------------------------


def test_a_packet_accepted_before_a_clean_stop_is_refused_after_it(path: Path) -> None:
    first = Run(path, START)
    first.start()
    captured = make("p1", START - 30)
    assert first.accept(captured)
    first.clock.advance(3)
    assert outcome(first.store.stop()) == [None]

    second = Run(path, first.clock.seconds() + 3)
    second.start()
    assert second.guard.seen(captured) and not second.accept(captured)
    # A clean stop saw everything: nothing else is refused, honest packets dated now pass.
    assert second.accept(make("p2", second.clock.seconds()))
    assert second.accept(make("c1", second.clock.seconds(), CAROL))
    assert second.guard.refused_by_common_floor == 0


def test_restarting_on_a_clean_file_marks_it_dirty_before_anything_is_accepted(path: Path) -> None:
    first = Run(path, START)
    first.start()
    outcome(first.store.stop())

    second = Run(path, START + 10)
    second.start()  # the loaded state is written back at once, marked unclean
    late = make("late", START + 10)
    assert second.accept(late)
    # crash before the first periodic save: what was accepted is on no disk ...

    third = Run(path, START + 12)
    third.start()
    assert not third.accept(late)  # ... yet the file no longer claims a clean stop, so it is covered


# -- a crash -----------------------------------------------------------------------------------


def test_after_a_crash_only_the_periodic_save_having_run_every_earlier_packet_is_refused(path: Path) -> None:
    first = Run(path, START)
    first.start()
    saved = make("saved", START - 100)
    assert first.accept(saved)
    first.clock.advance(INTERVAL)  # the periodic save runs
    assert first.store.saves == 2 and "write" in first.blocking.calls
    ahead = make("ahead", first.clock.seconds() + FUTURE)  # accepted after that save, from a new creator
    assert first.accept(ahead)
    first.clock.advance(2)  # crash before the next save: no stop

    crashed_at = first.clock.seconds()
    second = Run(path, crashed_at + 1)
    second.start()
    assert not second.accept(saved)  # its id was in the file
    assert not second.accept(ahead)  # it was not, but it is dated under the common floor
    now = second.clock.seconds()
    assert not second.accept(make("honest", now, CAROL))  # the cost: a minute of refusals after a crash
    assert second.guard.refused_by_common_floor == 3
    second.clock.advance(FUTURE + 1)
    assert second.accept(make("honest-later", second.clock.seconds(), CAROL))


def test_a_second_crash_within_the_minute_keeps_the_common_floor(path: Path) -> None:
    first = Run(path, START)
    first.start()
    ahead = make("ahead", START + FUTURE)
    assert first.accept(ahead)  # then a crash before any save

    second = Run(path, START + 1)
    second.start()  # its start wrote the common floor to disk
    third = Run(path, START + 2)  # crashed again at once
    third.start()
    assert not third.accept(ahead)


def test_after_a_clean_stop_a_restart_does_not_refuse_honest_peers(path: Path) -> None:
    first = Run(path, START)
    first.start()
    for n in range(5):
        assert first.accept(make(f"a{n}", START + n))
    outcome(first.store.stop())
    second = Run(path, START + 1)
    second.start()
    assert second.accept(make("new", START + 1))
    assert [second.accept(make(f"a{n}", START + n)) for n in range(5)] == [False] * 5


# -- what is loaded ----------------------------------------------------------------------------


def test_expired_entries_are_not_loaded(path: Path) -> None:
    first = Run(path, START)
    first.start()
    assert first.accept(make("old", START - PAST + 10))
    assert first.accept(make("young", START))
    outcome(first.store.stop())

    second = Run(path, START + 20)  # "old" expired 10 s ago; "young" has 580 s to go
    second.start()
    assert len(second.guard) == 1 and second.guard.creators == 1
    assert second.guard.seen(make("young", START))

    third = Run(path, START + PAST + 1)  # everything expired while the node was down
    third.start()
    assert len(third.guard) == 0 and third.guard.creators == 0
    state = decode(path.read_bytes(), max_bytes=size_bound(third.guard))
    assert state.entries == 0 and state.names == []


def test_the_bounds_of_the_guard_apply_to_what_is_loaded(path: Path) -> None:
    first = Run(path, START)
    first.start()
    sent = [
        make(f"{creator}-{n}", START - 60 + n, f"http://h.net/user{creator}.xml")
        for creator in range(12)
        for n in range(9)
    ]
    assert all(first.accept(packet) for packet in sent)
    outcome(first.store.stop())

    small = Run(path, START + 1, max_per_creator=4, max_total=20, max_creators=6)
    small.start()
    assert len(small.guard) <= 20 and small.guard.creators <= 6
    # What did not fit was folded into floors, never forgotten: every packet is still a replay.
    assert all(small.guard.seen(packet) for packet in sent)
    assert not any(small.accept(packet) for packet in sent)


# -- what is not loaded ------------------------------------------------------------------------


def state_file(
    *,
    date: Any = START,
    version: int = store_module.VERSION,
    counts: list[int] | None = None,
    names: list[str] | None = None,
) -> bytes:
    """A state file by hand: alice with one id dated ``date``, saved at START."""
    names = names or [ALICE]
    fields = [store_module.MAGIC, version, START, True, None, names, [None] * len(names), counts or [1], ["p"], [date]]
    return msgpack.packb(fields)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00garbage, not msgpack\xff" * 3, "not msgpack"),
        (msgpack.packb({"creators": []}), "not a bitdust-replay-guard state"),
        (state_file(version=99), "not a bitdust-replay-guard state"),
        (state_file(date="soon"), "not a date"),
        (state_file(date=START + 10_000), "after the latest this guard could have accepted"),
        (state_file(counts=[2]), "lists of different lengths"),
        (state_file(counts=[-1]), "a count of ids"),
        (state_file(names=[ALICE, ALICE], counts=[1, 0]), "a creator listed twice"),
        (b"\x92" * 4000, "more than the"),
    ],
    ids=[
        "garbage",
        "wrong-shape",
        "wrong-version",
        "bad-date",
        "impossible-date",
        "lengths",
        "count",
        "twice",
        "oversized",
    ],
)
def test_an_unusable_file_is_ignored_with_a_log_line_and_covered_like_a_crash(
    path: Path, content: bytes, reason: str
) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    run = Run(path, START, max_per_creator=2, max_total=2, max_creators=1)  # a small size bound: 2,368 bytes
    run.start()  # never fatal
    [line] = [line for line in run.logged() if "ignored" in line]
    assert reason in line and str(path) in line
    # Whatever the previous run accepted may be dated up to a minute from now: covered.
    assert not run.accept(make("any", START + FUTURE))
    run.clock.advance(FUTURE + 1)
    assert run.accept(make("fresh", run.clock.seconds()))
    # ... and the file holds a usable state again.
    assert decode(path.read_bytes(), max_bytes=size_bound(run.guard)).floor_all == START + FUTURE


def test_a_missing_file_is_a_first_start(path: Path) -> None:
    run = Run(path, START)
    run.start()
    assert run.accept(make("first", START)) and run.guard.refused_by_common_floor == 0
    assert any("a first start" in line for line in run.logged())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decoding_random_bytes_raises_only_replay_state_errors(data: bytes) -> None:
    try:
        decode(data, max_bytes=200)
    except ReplayStateError:
        pass


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats()
    | st.integers(-(2**63), 2**64 - 1)
    | st.text(max_size=5)
    | st.binary(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_values, min_size=10, max_size=10), st.booleans())
def test_decoding_random_structures_raises_only_replay_state_errors(fields: list[Any], real_header: bool) -> None:
    if real_header:
        fields[:2] = [store_module.MAGIC, store_module.VERSION]
    try:
        state = decode(msgpack.packb(fields, use_bin_type=True), max_bytes=10_000)
    except ReplayStateError:
        return
    clock = task.Clock()
    clock.advance(START)
    try:
        ReplayGuard(clock).restore(state)
    except ValueError:
        pass


_dates = st.none() | st.floats(START - 2 * PAST, START + 2 * FUTURE) | st.just(float("nan"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([ALICE, CAROL, BOB, "x" * 300]), max_size=3),
    st.lists(_dates, max_size=4),
    st.lists(st.integers(-1, 5), max_size=4),
    st.lists(st.sampled_from(["a", "b", "c", ""]), max_size=12),
    st.lists(_dates, max_size=12),
    st.booleans(),
)
def test_restoring_plausible_states_keeps_the_bounds_or_refuses_with_value_error(
    names: list[str], floors: list[Any], counts: list[int], ids: list[str], dates: list[Any], clean: bool
) -> None:
    fields = [store_module.MAGIC, store_module.VERSION, START, clean, None, names, floors, counts, ids, dates]
    clock = task.Clock()
    clock.advance(START)
    guard = ReplayGuard(clock, PAST, future_seconds=FUTURE, max_per_creator=2, max_total=3, max_creators=2)
    try:
        state = decode(msgpack.packb(fields), max_bytes=size_bound(guard))
        guard.restore(state)
    except ValueError:  # ReplayStateError is one
        assert len(guard) == 0 and guard.creators == 0
        return
    assert len(guard) <= 3 and guard.creators <= 2
    for name, _floor, seen in state.creators():
        for packet_id, date in seen:
            if date >= START - PAST:
                assert guard.seen(make(packet_id, date, name)), "a loaded packet must stay a replay"


def test_encoding_round_trips() -> None:
    clock = task.Clock()
    clock.advance(START)
    guard = ReplayGuard(clock)
    guard.check_and_remember(make("ü-ñ", START))
    guard.cover_unknown_history()
    state = guard.export(clean=True)
    assert decode(encode(state), max_bytes=size_bound(guard)) == state


# -- how it is written -------------------------------------------------------------------------


def test_the_file_is_read_and_written_only_through_run_blocking(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocking = Blocking(queued=True)
    writes: list[bool] = []
    real_atomic_write = store_module.atomic_write

    def watched_atomic_write(*args: Any, **kwargs: Any) -> None:
        writes.append(blocking.inside)
        real_atomic_write(*args, **kwargs)

    monkeypatch.setattr(store_module, "atomic_write", watched_atomic_write)
    run = Run(path, START, blocking)
    loaded = outcome(run.store.load())
    assert blocking.calls == ["load_into"] and not path.exists()
    blocking.run_queued()  # the read, then the write it asks for (the dirty mark)
    assert loaded == [None] and blocking.calls == ["load_into", "write"] and path.exists()
    run.store.start()
    before = path.read_bytes()

    assert run.accept(make("p", START))
    run.clock.advance(INTERVAL)
    assert blocking.calls[-1] == "write" and path.read_bytes() == before  # asked for, not done on this thread
    run.clock.advance(INTERVAL)  # a tick while a write is pending asks for nothing more
    assert blocking.calls == ["load_into", "write", "write"]
    blocking.run_queued()
    assert path.read_bytes() != before
    run.clock.advance(INTERVAL)  # nothing changed since: no write
    assert blocking.calls == ["load_into", "write", "write"]

    stopped = outcome(run.store.stop())
    assert stopped == [] and blocking.calls[-1] == "write"
    blocking.run_queued()
    assert stopped == [None]
    assert decode(path.read_bytes(), max_bytes=size_bound(run.guard)).clean
    assert writes == [True, True, True]


def test_a_failed_save_is_logged_and_retried_at_the_next_tick(path: Path) -> None:
    run = Run(path, START)
    run.start()
    assert run.accept(make("p", START))
    run.blocking.fail_writes = 1
    run.clock.advance(INTERVAL)
    assert run.store.failed_saves == 1
    assert any("saving the replay memory" in line and "No space left" in line for line in run.logged())
    run.clock.advance(INTERVAL)
    assert run.store.failed_saves == 1 and run.store.saves == 2
    assert decode(path.read_bytes(), max_bytes=size_bound(run.guard)).by_creator()[ALICE][1] == {"p": START}


# -- the gateway service on a node's home, and the attack ---------------------------------------


class FakeEngine:
    """What GatewayService uses of the Engine, for one run of bob's node on ``home``."""

    def __init__(self, home: Path, clock: task.Clock, node: Any) -> None:
        self.reactor = clock
        self.paths = HomePaths(home)
        self.paths.create()
        self.config = Config(self.paths.config, options=())
        self.local_identity = SimpleNamespace(current=node.identity)
        self.keys = SimpleNamespace(master=lambda: SimpleNamespace(key=node.key))
        self.identity_cache = node.cache
        self.automats = None
        self.p2p = SimpleNamespace(gateway=None)
        self.blocking = Blocking()
        self.run_blocking = self.blocking
        self.events: list[dict[str, Any]] = []

    def logger(self, namespace: str) -> Logger:
        return Logger(namespace=namespace, observer=self.events.append)


class Bob:
    """Bob's node in ``Net``, its gateway built by a real GatewayService over a home folder."""

    def __init__(self, net: Net, home: Path) -> None:
        self.net = net
        self.home = home
        self.service: GatewayService | None = None
        self.engine: FakeEngine | None = None

    def start(self) -> None:
        """A new run of bob's node: new service, new gateway, only the home folder carried over."""
        node = self.net.bob
        engine = self.engine = FakeEngine(self.home, self.net.clock, node)
        service = self.service = GatewayService(engine)
        for option in service.options():
            engine.config.register(option)
        assert outcome(defer.maybeDeferred(service.start)) == [None]
        gateway = engine.p2p.gateway
        assert gateway is not None, "the gateway is published once its replay memory is loaded"
        gateway.add_transport(node.transport)
        node.handled.clear()
        node.gateway = gateway
        self.net.handle(node, commands.IDENTITY)

    def stop(self) -> None:
        assert self.service is not None
        assert outcome(defer.maybeDeferred(self.service.stop)) == [None]

    def crash(self) -> None:
        """The process dies: nothing of this run reaches the disk any more (its timers may still fire)."""
        assert self.engine is not None
        self.engine.blocking.dead = True


@pytest.fixture
def net(alice_key: RsaKey, bob_key: RsaKey) -> Net:
    return Net(alice_key, bob_key)


def ping(net: Net) -> list[Any]:
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, b"ping", timeout=9, retries=0))
    net.flush()
    return box


def captured_ping(net: Net) -> bytes:
    """Alice pings bob; what went over the wire is what an eavesdropper keeps."""
    box = ping(net)
    assert box and isinstance(box[0], Packet) and box[0].command == commands.ACK
    assert [packet.creator_id for packet in net.bob.handled] == [ALICE]
    [(_when, _idurl, _contact, data)] = net.alice.transport.sent[-1:]
    return data


@pytest.mark.parametrize("how", ["clean-stop", "crash-after-a-save", "crash-before-a-save"])
def test_a_real_signed_packet_replayed_after_the_targets_restart_is_dropped(net: Net, tmp_path: Path, how: str) -> None:
    bob = Bob(net, tmp_path / "bob")
    bob.start()
    net.clock.advance(60)
    data = captured_ping(net)
    if how == "clean-stop":
        bob.stop()
    elif how == "crash-after-a-save":
        net.clock.advance(INTERVAL)  # the periodic save took the ping's id to disk
        bob.crash()
    else:
        bob.crash()  # the ping was accepted after the last save
    net.clock.advance(3)

    bob.start()
    net.inject(net.bob, data)
    # Dropped as a replay before any RSA work: no handler ran, no Ack went back.
    assert net.bob.handled == [] and net.bob.gateway.stats.dropped["replay"] == 1
    assert net.bob.transport.sent_commands().count(commands.ACK) == 1

    # Honest pings: at once after a clean stop; after a crash once the common floor (a minute) passed.
    if how != "clean-stop":
        refused = ping(net)
        net.clock.advance(9)
        assert refused and not isinstance(refused[0], Packet)
        net.clock.advance(FUTURE - 9 + 1)
    box = ping(net)
    assert box and isinstance(box[0], Packet) and box[0].command == commands.ACK
    assert [packet.creator_id for packet in net.bob.handled] == [ALICE]
    bob.stop()


def test_the_gateway_service_saves_where_the_node_keeps_its_metadata_and_only_in_threads(
    net: Net, tmp_path: Path
) -> None:
    bob = Bob(net, tmp_path / "bob")
    bob.start()
    assert bob.service is not None
    engine = bob.service.engine
    assert engine.paths.replay_state == tmp_path / "bob" / "metadata" / "replayguard"
    assert engine.config.get("services/gateway/replay-save-interval") == INTERVAL
    captured_ping(net)
    net.clock.advance(INTERVAL)
    bob.stop()
    state = decode(engine.paths.replay_state.read_bytes(), max_bytes=size_bound(net.bob.gateway.replays))
    assert state.clean and ALICE in state.names
    assert engine.paths.replay_state.stat().st_mode & 0o777 == 0o600
    file_work = [name for name in engine.blocking.calls if name in ("load_into", "write")]
    assert file_work == ["load_into", "write", "write", "write"]  # load, dirty mark, periodic save, clean stop
