"""Unfinished frames and streams: what strangers and peers may make a node hold (issue 11, point 3).

The attack: connections open streams announced as the biggest packet allowed and never finish
them. Before the budget each connection held up to 4 x 16 MiB. In memory, a :class:`Wire` moves an
attacker's bytes to the target only while the target reads (as TCP does); on loopback, real
sockets push back by themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.test import iosim

from bitdust.transport.tcp import frames
from bitdust.transport.tcp.budget import READ_SIZE, BudgetLimits, ReceiveBudget
from bitdust.transport.tcp.connections import TcpConnection
from bitdust.transport.tcp.frames import FrameType, encode_frame, encode_hello
from tests.transport.conftest import ALICE, BOB
from tests.transport.test_connections import QUIET, Peer, real_reactor

KIB, MIB = 1024, 1024 * 1024
LIMITS = BudgetLimits(per_peer=5 * MIB, per_stranger=512 * KIB, strangers_total=2 * MIB, total=12 * MIB)


def attack(streams: int = 4, total: int = 4 * MIB) -> Iterator[bytes]:
    """A stranger's bytes: the hello, then ``streams`` streams of ``total`` bytes, each one byte short."""
    yield encode_hello()
    for sid in range(1, streams + 1):
        yield encode_frame(FrameType.STREAM_START, sid, frames.STREAM_TOTAL.pack(total))
        left = total - 1
        while left:
            piece = min(frames.MAX_CHUNK, left)
            yield encode_frame(FrameType.STREAM_CHUNK, sid, b"a" * piece)
            left -= piece


class Wire:
    """Feeds one connection from a byte source only while it reads, at most one socket read at a time."""

    def __init__(self, conn: TcpConnection, source: Iterator[bytes]) -> None:
        self.conn, self.source, self.pending = conn, source, b""

    def run(self) -> int:
        fed = 0
        while self.conn.is_open and self.conn.transport.producerState != "paused":
            if not self.pending:
                self.pending = next(self.source, b"")
                if not self.pending:
                    break
            piece, self.pending = self.pending[:READ_SIZE], self.pending[READ_SIZE:]
            self.conn.dataReceived(piece)
            fed += len(piece)
        return fed


def target(clock: Any = None, **options: Any) -> Peer:
    peer = Peer(clock or MemoryReactorClock(), BOB, **{**QUIET, "idle_close": None, "max_packet": 5 * MIB, **options})
    peer.transport.receive_budget = ReceiveBudget(LIMITS)
    return peer


def stranger(peer: Peer) -> TcpConnection:
    conn = TcpConnection(peer.transport, "in")
    conn.makeConnection(StringTransport())
    return conn


# -- the budget alone ----------------------------------------------------------------------------


def test_a_stranger_over_its_own_limit_waits_until_it_is_trusted() -> None:
    budget = ReceiveBudget(LIMITS)
    woken: list[str] = []
    account = budget.open(lambda: woken.append("room"))
    assert account.hold(LIMITS.per_stranger)
    assert not account.hold(LIMITS.per_stranger + 1) and account.waiting
    assert budget.held == budget.strangers_held == LIMITS.per_stranger + 1
    account.trust()
    assert woken == ["room"] and budget.strangers_held == 0 and budget.held == LIMITS.per_stranger + 1
    account.close()
    assert budget.held == 0


def test_strangers_share_one_pool_and_a_release_wakes_who_waited_on_it() -> None:
    budget = ReceiveBudget(LIMITS)
    woken: list[int] = []
    accounts = [budget.open(lambda i=i: woken.append(i)) for i in range(5)]
    results = [account.hold(LIMITS.per_stranger) for account in accounts]
    assert results == [True, True, True, True, False]  # 4 x 512 KiB fill the 2 MiB pool
    accounts[0].close()
    assert woken == [4] and budget.strangers_held == 4 * LIMITS.per_stranger


def test_the_node_total_bounds_peers_too_and_frees_them_as_others_finish() -> None:
    budget = ReceiveBudget(LIMITS)
    peers = [budget.open(lambda: None) for _ in range(3)]
    for account in peers:
        account.trust()
    assert peers[0].hold(5 * MIB) and peers[1].hold(5 * MIB)
    assert not peers[2].hold(3 * MIB) and peers[2].waiting
    peers[0].hold(0)  # a stream finished
    assert not peers[2].waiting and budget.peak == 13 * MIB


# -- the attack, in memory -----------------------------------------------------------------------


def test_strangers_unfinished_streams_stay_under_the_bounds() -> None:
    """8 connections x 4 streams of 4 MiB, never finished: before, bob held 128 MiB."""
    bob = target()
    wires = [Wire(stranger(bob), attack()) for _ in range(8)]
    for _ in range(3):
        for wire in wires:
            wire.run()
    budget = bob.transport.receive_budget
    assert budget.strangers_held <= LIMITS.strangers_total + 8 * READ_SIZE
    assert all(w.conn.held <= LIMITS.per_stranger + READ_SIZE for w in wires)
    assert all(w.conn.reading_paused == {"budget"} for w in wires)
    assert budget.held == sum(w.conn.held for w in wires)


def test_stalled_strangers_are_dropped_and_everything_they_held_is_released() -> None:
    clock = MemoryReactorClock()
    bob = target(clock, stall_timeout=30.0)
    wires = [Wire(stranger(bob), attack()) for _ in range(3)]
    for wire in wires:
        wire.run()
    clock.advance(29)
    assert all(w.conn.is_open for w in wires)
    clock.advance(1)
    assert not any(w.conn.is_open for w in wires) and bob.transport.violations == 3
    for wire in wires:
        wire.conn.connectionLost()
    assert bob.transport.receive_budget.held == 0 and clock.getDelayedCalls() == []


def test_a_stream_that_keeps_moving_is_not_stalled() -> None:
    clock = MemoryReactorClock()
    bob = target(clock, stall_timeout=30.0)
    conn = stranger(bob)
    bob.transport.bind(conn, ALICE)  # a peer's, so its budget lets it finish a 4 MiB stream
    source = attack(streams=1)
    conn.dataReceived(next(source) + next(source))
    for blob in source:
        clock.advance(20)
        conn.dataReceived(blob)
        assert conn.is_open
    conn.dataReceived(encode_frame(FrameType.STREAM_CHUNK, 1, b"a") + encode_frame(FrameType.STREAM_END, 1))
    assert conn.is_open and conn.held == 0 and bob.payloads() == [b"a" * (4 * MIB)]
    assert clock.getDelayedCalls() == []


def test_streams_aborted_by_their_sender_release_what_they_held() -> None:
    """Start, send most of it, abort, again: before, every aborted stream's bytes stayed."""
    bob = target()
    conn = stranger(bob)
    bob.transport.bind(conn, ALICE)
    conn.dataReceived(encode_hello())
    for sid in range(1, 41):
        conn.dataReceived(encode_frame(FrameType.STREAM_START, sid, frames.STREAM_TOTAL.pack(MIB)))
        conn.dataReceived(encode_frame(FrameType.STREAM_CHUNK, sid, b"a" * frames.MAX_CHUNK))
        conn.dataReceived(encode_frame(FrameType.STREAM_ABORT, sid, frames.ABORT_BY_SENDER))
    assert conn.is_open and conn.held == 0 and conn._assemblies == {}
    assert bob.transport.receive_budget.held == 0


def test_a_peer_holding_more_than_one_packet_in_flight_is_dropped() -> None:
    """An honest sender has one stream open at a time: more than a packet's worth breaks the rule."""
    bob = target()
    conn = stranger(bob)
    bob.transport.bind(conn, ALICE)
    Wire(conn, attack(streams=2, total=5 * MIB)).run()
    assert not conn.is_open and bob.transport.violations == 1


def test_an_honest_peers_big_packet_and_pings_get_through_while_strangers_flood() -> None:
    clock = MemoryReactorClock()
    bob = target(clock)
    wires = [Wire(stranger(bob), attack()) for _ in range(8)]
    for wire in wires:
        wire.run()
    alice = Peer(clock, ALICE, **{**QUIET, "idle_close": None, "max_packet": 5 * MIB})
    client = TcpConnection(alice.transport, "out", expected_peer=BOB)
    server = TcpConnection(bob.transport, "in")
    pump = iosim.connect(
        server,
        iosim.FakeTransport(server, isServer=True),
        client,
        iosim.FakeTransport(client, isServer=False),
        clock=clock,
    )
    big = bytes(range(256)) * (16 * 1024)  # 4 MiB, a Data packet's size
    client.send_packet(b"ping")
    client.send_packet(big)
    pump.flush()
    assert bob.transport.connection_for(ALICE) is server
    assert bob.payloads() == [b"ping", big]
    assert all(w.conn.reading_paused == {"budget"} for w in wires)  # the flood is still held back


# -- the attack, on loopback ---------------------------------------------------------------------


class Flooder:
    """A raw client that writes a stranger's unfinished streams as fast as the target takes them."""

    def __init__(self, reactor: Any, port: int, blob: bytes) -> None:
        from twisted.internet.protocol import ClientFactory, Protocol

        self.connected: defer.Deferred[Any] = defer.Deferred()
        flooder = self

        class Flood(Protocol):
            def connectionMade(self) -> None:
                self.transport.write(blob)
                flooder.connected.callback(self)

        factory = ClientFactory.forProtocol(Flood)
        self.connector = reactor.connectTCP("127.0.0.1", port, factory)

    def stop(self) -> None:
        self.connector.disconnect()


@pytest_twisted.inlineCallbacks
def test_on_loopback_a_flood_is_held_to_the_bounds_while_alice_sends_bob_a_4_mib_packet() -> Any:
    reactor = real_reactor()
    options = {"max_packet": 5 * MIB, "idle_close": None}
    alice, bob = Peer(reactor, ALICE, **options), Peer(reactor, BOB, **options)
    bob.transport.receive_budget = ReceiveBudget(LIMITS)
    bob.auto_bind = False
    yield alice.transport.listen(0, interface="127.0.0.1")
    yield bob.transport.listen(0, interface="127.0.0.1")
    blob = b"".join(attack(streams=4, total=4 * MIB))  # 16 MiB a connection
    flooders = [Flooder(reactor, bob.transport.listening_port, blob) for _ in range(8)]
    try:
        yield defer.gatherResults([f.connected for f in flooders])
        budget = bob.transport.receive_budget
        yield bob.until(
            lambda: (
                len(bob.transport.connections) == 8
                and all(c.reading_paused == {"budget"} for c in bob.transport.connections)
            ),
            "every flooding connection to be held back",
        )
        bound = LIMITS.strangers_total + 8 * READ_SIZE
        assert budget.held <= bound and budget.peak <= bound

        big = bytes(range(256)) * (16 * 1024)
        yield alice.transport.send(BOB, bob.contact, b"ping")
        yield alice.transport.send(BOB, bob.contact, big)
        yield bob.until(lambda: len(bob.packets) == 2, "alice's ping and 4 MiB packet")
        assert bob.payloads() == [b"ping", big]
        assert bob.transport.connection_for(ALICE) is bob.packets[0][1]
        assert budget.peak <= bound + 5 * MIB
    finally:
        for flooder in flooders:
            flooder.stop()
        yield defer.DeferredList([alice.transport.stop(), bob.transport.stop()], consumeErrors=True)


@pytest.mark.parametrize("option", ["per_stranger", "strangers_total", "total"])
def test_the_service_reads_every_budget_option(option: str) -> None:
    from bitdust.services.service_tcp_connections import TcpConnectionsService

    names = {o.key.rsplit("/", 1)[-1] for o in TcpConnectionsService.options(_FakeService())}
    wanted = {"per_stranger": "unfinished-per-stranger", "strangers_total": "unfinished-strangers-total"}
    assert wanted.get(option, "unfinished-total") in names and "stalled-stream-seconds" in names


class _FakeService:
    def config_prefix(self) -> str:
        return "services/tcp-connections"
