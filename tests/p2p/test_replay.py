"""ReplayGuard: deterministic on task.Clock, bounded memory, fails closed."""

from __future__ import annotations

import pytest
from twisted.internet import task

from bitdust.p2p.packet import Packet
from bitdust.p2p.replay import ReplayGuard
from tests.p2p.conftest import ALICE, ALICE2, BOB


def make(packet_id: str, date: float, creator: str = ALICE) -> Packet:
    return Packet(command="Ack", owner_id=creator, creator_id=creator, packet_id=packet_id, date=date, remote_id=BOB)


def test_replay_detected_until_window_passes() -> None:
    clock = task.Clock()
    clock.advance(1000)
    guard = ReplayGuard(clock, 60)
    packet = make("a", 1000)
    assert guard.check_and_remember(packet) is False
    assert guard.check_and_remember(packet) is True
    assert guard.check_and_remember(make("a", 1000, ALICE2)) is False
    clock.advance(60)
    assert guard.check_and_remember(packet) is True
    clock.advance(1)
    assert len(guard) == 0


def test_future_dated_packet_is_remembered_until_it_could_no_longer_verify() -> None:
    clock = task.Clock()
    clock.advance(1000)
    guard = ReplayGuard(clock, 60)
    assert guard.check_and_remember(make("f", 1060)) is False
    clock.advance(119)
    assert guard.check_and_remember(make("f", 1060)) is True
    far = make("far", 1e9)
    assert guard.check_and_remember(far) is False
    clock.advance(200)
    assert len(guard) == 0


def test_stale_packet_is_refused() -> None:
    clock = task.Clock()
    clock.advance(1000)
    assert ReplayGuard(clock, 60).check_and_remember(make("old", 900)) is True


def test_bounded_memory_fails_closed() -> None:
    clock = task.Clock()
    guard = ReplayGuard(clock, 10, max_per_creator=3, max_total=5)
    assert [guard.check_and_remember(make(str(i), 0)) for i in range(4)] == [False, False, False, True]
    assert [guard.check_and_remember(make(str(i), 0, ALICE2)) for i in range(3)] == [False, False, True]
    assert len(guard) == 5
    clock.advance(11)
    assert len(guard) == 0
    assert guard.check_and_remember(make("3", 11)) is False


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        ReplayGuard(task.Clock(), 0)
