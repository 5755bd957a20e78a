"""ReplayGuard: deterministic on task.Clock; bounds fold old ids into a floor instead of refusing anyone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import task

from bitdust.p2p.packet import Packet
from bitdust.p2p.replay import ReplayGuard
from tests.p2p.conftest import ALICE, ALICE2, BOB

CAROL = "http://h.net/carol.xml"


def make(packet_id: str, date: float, creator: str = ALICE) -> Packet:
    return Packet(command="Ack", owner_id=creator, creator_id=creator, packet_id=packet_id, date=date, remote_id=BOB)


def flooder(n: int) -> str:
    return f"http://flood.net/flood{n}.xml"


def test_replay_detected_until_window_passes() -> None:
    clock = task.Clock()
    clock.advance(1000)
    guard = ReplayGuard(clock, 60, future_seconds=10)
    packet = make("a", 1000)
    assert guard.check_and_remember(packet) is False
    assert guard.check_and_remember(packet) is True
    assert guard.check_and_remember(make("a", 1000, ALICE2)) is False
    clock.advance(60)
    assert guard.check_and_remember(packet) is True
    clock.advance(1)
    assert len(guard) == 0 and guard.creators == 0


def test_future_side_of_the_window_is_its_own() -> None:
    clock = task.Clock()
    clock.advance(1000)
    guard = ReplayGuard(clock, 60, future_seconds=10)
    assert guard.check_and_remember(make("f", 1010)) is False
    # remembered until it is too old to verify: 60 s after its date, 70 s from now
    clock.advance(70)
    assert guard.check_and_remember(make("f", 1010)) is True
    clock.advance(1)
    assert len(guard) == 0
    # dated beyond the future edge: verify refuses it, and the guard will not pin memory for it
    assert guard.check_and_remember(make("far", clock.seconds() + 11)) is True
    assert guard.check_and_remember(make("far", 1e9)) is True
    assert len(guard) == 0


def test_stale_packet_is_refused() -> None:
    clock = task.Clock()
    clock.advance(1000)
    assert ReplayGuard(clock, 60).check_and_remember(make("old", 900)) is True


def test_seen_asks_without_remembering() -> None:
    clock = task.Clock()
    guard = ReplayGuard(clock, 60, future_seconds=10)
    packet = make("a", 0)
    assert guard.seen(packet) is False
    assert len(guard) == 0 and guard.creators == 0
    assert guard.check_and_remember(packet) is False
    assert guard.seen(packet) is True
    assert guard.seen(make("b", 0)) is False


def test_a_creator_over_its_budget_folds_its_oldest_ids_into_a_floor() -> None:
    clock = task.Clock()
    clock.advance(100)
    guard = ReplayGuard(clock, 60, future_seconds=10, max_per_creator=4, max_total=100)
    for i in range(4):
        assert guard.check_and_remember(make(str(i), 100 + i)) is False
    # the fifth is accepted: the two oldest ids are folded into a floor at date 101
    assert guard.check_and_remember(make("4", 104)) is False
    assert len(guard) == 3 and guard.compactions == 1
    # nothing accepted can be replayed, folded or not
    assert [guard.check_and_remember(make(str(i), 100 + i)) for i in range(5)] == [True] * 5
    # what the creator loses: its packets dated under the floor that had not arrived yet
    assert guard.check_and_remember(make("late", 100.5)) is True
    assert guard.check_and_remember(make("later", 102.5)) is False
    # nobody else is touched
    assert guard.check_and_remember(make("0", 100, CAROL)) is False


def test_the_total_bound_folds_the_largest_creator_not_everyone() -> None:
    """The issue 11 lockout, scaled down: flooders fill the total, honest peers keep being accepted."""
    clock = task.Clock()
    clock.advance(1000)
    guard = ReplayGuard(clock, 600, max_per_creator=50, max_total=200)
    honest_refused = 0
    for i in range(2000):
        if i % 20 == 0:
            clock.advance(0.2)
            honest_refused += guard.check_and_remember(make(f"h{i}", clock.seconds()))
            honest_refused += guard.check_and_remember(make(f"c{i}", clock.seconds(), CAROL))
        guard.check_and_remember(make(f"f{i}", clock.seconds() + 59, flooder(i % 20)))
    assert honest_refused == 0
    assert len(guard) <= 200 and guard.refused_newcomers == 0
    # after the flood too, and nothing the flooders sent can be replayed
    assert guard.check_and_remember(make("after", clock.seconds())) is False
    assert not any(guard.check_and_remember(make(f"f{i}", 0, flooder(i % 20))) is False for i in range(2000))


def test_when_every_creator_holds_one_id_a_new_packet_goes_into_its_floor() -> None:
    clock = task.Clock()
    guard = ReplayGuard(clock, 60, future_seconds=10, max_per_creator=4, max_total=3)
    for n in range(3):
        assert guard.check_and_remember(make("1", 0, flooder(n))) is False
    # a fourth creator is the one refusal there is: every slot holds a different creator's only id
    assert guard.check_and_remember(make("1", 0, CAROL)) is True
    assert guard.refused_newcomers == 1
    # a creator already tracked keeps being accepted, its ids folded into its floor
    assert guard.check_and_remember(make("2", 1, flooder(0))) is False
    assert guard.check_and_remember(make("2", 1, flooder(0))) is True
    assert guard.check_and_remember(make("1", 0, flooder(0))) is True
    assert len(guard) == 2 and guard.creators == 3
    clock.advance(62)
    assert len(guard) == 0 and guard.creators == 0
    assert guard.check_and_remember(make("1", 62, CAROL)) is False


def test_memory_is_given_back_when_the_window_passes() -> None:
    clock = task.Clock()
    guard = ReplayGuard(clock, 60, future_seconds=10, max_per_creator=10, max_total=50)
    for i in range(1000):
        guard.check_and_remember(make(str(i), clock.seconds() + 9, flooder(i % 7)))
        clock.advance(0.01)
    assert len(guard) <= 50
    assert len(guard._heap) <= 2 * (len(guard) + guard.creators) + 64
    clock.advance(80)
    assert len(guard) == 0 and guard.creators == 0 and len(guard._heap) <= 64


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        ReplayGuard(task.Clock(), 0)
    with pytest.raises(ValueError):
        ReplayGuard(task.Clock(), 60, future_seconds=0)
    with pytest.raises(ValueError):
        ReplayGuard(task.Clock(), 60, max_per_creator=1)


_steps = st.lists(
    st.tuples(
        st.integers(0, 3),  # creator
        st.integers(0, 30),  # packet id
        st.floats(-25, 12, allow_nan=False),  # date relative to now
        st.sampled_from([0.0, 0.0, 0.5, 3.0, 30.0]),  # clock advance before
    ),
    max_size=200,
)


@settings(max_examples=150, deadline=None)
@given(_steps)
def test_no_packet_is_accepted_twice_and_bounds_hold(steps: list[tuple[int, int, float, float]]) -> None:
    clock = task.Clock()
    clock.advance(100)
    guard = ReplayGuard(clock, 20, future_seconds=10, max_per_creator=4, max_total=6, max_creators=3)
    accepted: list[Packet] = []
    for creator_n, packet_n, offset, advance in steps:
        clock.advance(advance)
        now = clock.seconds()
        # a date seen before for this creator and id, now and then: the same packet sent again
        dates = [p.date for p in accepted if p.creator_id == flooder(creator_n) and p.packet_id == str(packet_n)]
        date = dates[-1] if dates and offset < -12 else now + offset
        packet = make(str(packet_n), date, flooder(creator_n))
        was_seen = guard.seen(packet)
        refused = guard.check_and_remember(packet)
        if packet in accepted and packet.date >= now - 20:
            # accepted before and it could still verify: a replay, which must never pass
            assert refused and was_seen
        if not refused:
            assert not was_seen
            accepted.append(packet)
        assert len(guard) <= 6 and guard.creators <= 3
        assert all(len(state.seen) <= 4 for state in guard._creators.values())
