"""The TCP transport: connection pool, binding, goodbyes, garbage, and its address parser.

Two kinds of tests. Deterministic ones connect two TcpConnections of two TcpTransports in memory
(``twisted.test.iosim``) on one ``MemoryReactorClock``, or feed a single connection from a
``StringTransport``. The others run two transports on real loopback sockets (127.0.0.1, port 0)
with pytest-twisted; they wait on events the transports report, never on wall-clock sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, task
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.test import iosim

from bitdust.transport.errors import NotConnected
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.connections import TcpConnection, TcpTransport, parse_address
from bitdust.transport.tcp.frames import FrameType, encode_frame, encode_hello
from tests.transport.conftest import ALICE, BOB, shared_directory

MIB = 1024 * 1024
WAIT = 10.0  # seconds a real-socket test may wait for one event before it fails instead of hanging


class Peer:
    """A TcpTransport and everything it reported; plays the gateway for it.

    ``auto_bind`` binds a connection to the IDURL a packet carries, as the gateway does once the
    packet verifies; ``garbage`` makes every packet "refused" (``report_garbage``) instead.
    """

    def __init__(self, reactor: Any, idurl: str, *, authenticated: bool = True, **options: Any) -> None:
        self.reactor = reactor
        self.idurl = idurl
        self.packets: list[tuple[bytes, TcpConnection]] = []
        self.closed: list[tuple[str, str]] = []
        self.auto_bind = True
        self.garbage = False
        self._waiters: list[tuple[Callable[[], bool], defer.Deferred[None]]] = []
        peer = self

        class Observed(TcpTransport):
            def _opened(self, conn: TcpConnection) -> None:
                super()._opened(conn)
                peer.changed()

            def _closed(self, conn: TcpConnection, reason: Failure) -> None:
                super()._closed(conn, reason)
                peer.changed()

        options.setdefault("max_packet", 2 * MIB)
        if authenticated:
            options.setdefault("authenticator", shared_directory().authenticator(idurl))
        self.transport = Observed(reactor, on_packet=self._packet, on_peer_closed=self._peer_closed, **options)
        self.transport.local_idurl = lambda: idurl

    def _packet(self, data: bytes, conn: TcpConnection) -> None:
        self.packets.append((data, conn))
        if self.garbage:
            conn.report_garbage("bad packet signature")
        elif self.auto_bind and data.startswith(b"http://"):
            self.transport.bind(conn, data.split(b" ", 1)[0].decode())
        self.changed()

    def _peer_closed(self, idurl: str, how: str) -> None:
        self.closed.append((idurl, how))
        self.changed()

    def changed(self) -> None:
        for waiter in list(self._waiters):
            predicate, d = waiter
            if predicate():
                self._waiters.remove(waiter)
                d.callback(None)

    def until(self, predicate: Callable[[], bool], what: str) -> defer.Deferred[None]:
        """Fires once ``predicate()`` holds (checked whenever this peer reports something)."""
        d: defer.Deferred[None] = defer.Deferred()
        self._waiters.append((predicate, d))
        # Some changes (a proof verified) are not reported: look again now and then, too.
        poller = task.LoopingCall(self.changed)
        poller.clock = self.reactor
        poller.start(0.05, now=True)

        def too_late(failure: Failure) -> Failure:
            failure.trap(defer.TimeoutError)
            raise AssertionError(f"timed out waiting for {what}")

        def stop_polling(result: Any) -> Any:
            poller.stop()
            return result

        return d.addTimeout(WAIT, self.reactor).addBoth(stop_polling).addErrback(too_late)

    @property
    def contact(self) -> str:
        return f"tcp://127.0.0.1:{self.transport.listening_port}"

    def payloads(self) -> list[bytes]:
        return [data for data, _conn in self.packets]


def real_reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@defer.inlineCallbacks
def start_pair(**options: Any) -> Any:
    reactor = real_reactor()
    alice, bob = Peer(reactor, ALICE, **options), Peer(reactor, BOB, **options)
    yield alice.transport.listen(0, interface="127.0.0.1")
    yield bob.transport.listen(0, interface="127.0.0.1")
    return alice, bob


@defer.inlineCallbacks
def stop_pair(alice: Peer, bob: Peer) -> Any:
    yield defer.DeferredList([alice.transport.stop(), bob.transport.stop()], consumeErrors=True)


# -- parse_address -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ("tcp://127.0.0.1:7771", ("127.0.0.1", 7771)),
        ("tcp://node.example.com:1", ("node.example.com", 1)),
        ("10.0.0.1:65535", ("10.0.0.1", 65535)),
    ],
)
def test_parse_address_good(contact: str, expected: tuple[str, int]) -> None:
    assert parse_address(contact) == expected


@pytest.mark.parametrize(
    "contact",
    [
        "",
        "tcp://",
        "tcp://127.0.0.1",
        "tcp://127.0.0.1:",
        "tcp://:7771",
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:65536",
        "tcp://127.0.0.1:-1",
        "tcp://127.0.0.1:77a1",
        "tcp://127.0.0.1: 7771",
    ],
)
def test_parse_address_bad(contact: str) -> None:
    with pytest.raises(ValueError):
        parse_address(contact)


@pytest.mark.parametrize("contact", ["udp://127.0.0.1:7771", "http://127.0.0.1:8084"])
def test_parse_address_refuses_other_schemes(contact: str) -> None:
    with pytest.raises(ValueError):
        parse_address(contact)


# -- deterministic: two connections in memory ---------------------------------------------------

QUIET = {"keepalive": None, "dead_timeout": None}


class MemoryPair:
    """Alice's outgoing connection to bob's transport, pumped in memory on one MemoryReactorClock."""

    def __init__(self, alice_options: dict[str, Any] | None = None, bob_options: dict[str, Any] | None = None):
        self.clock = MemoryReactorClock()
        self.alice = Peer(self.clock, ALICE, **{**QUIET, "idle_close": None, **(alice_options or {})})
        self.bob = Peer(self.clock, BOB, **{**QUIET, "idle_close": None, **(bob_options or {})})
        self.client = TcpConnection(self.alice.transport, "out", expected_peer=BOB)
        self.server = TcpConnection(self.bob.transport, "in")
        self.pump = iosim.connect(
            self.server,
            iosim.FakeTransport(self.server, isServer=True),
            self.client,
            iosim.FakeTransport(self.client, isServer=False),
            clock=self.clock,
        )
        self.alice.transport.bind(self.client, BOB)
        self.bob.transport.bind(self.server, ALICE)

    def flush(self) -> None:
        self.pump.flush()


def test_memory_pair_delivers_packets_both_ways() -> None:
    pair = MemoryPair()
    pair.client.send_packet(b"from alice")
    pair.server.send_packet(b"from bob")
    pair.flush()
    assert pair.bob.payloads() == [b"from alice"] and pair.alice.payloads() == [b"from bob"]
    assert pair.alice.transport.connection_for(BOB) is pair.client
    assert pair.bob.transport.connection_for(ALICE) is pair.server
    [row] = pair.alice.transport.connections_json()
    assert row["idurl"] == BOB and row["direction"] == "out" and row["verified"] is True
    assert row["packets_sent"] == 1 and row["packets_received"] == 1


def test_idle_connection_is_closed_with_goodbye_idle() -> None:
    pair = MemoryPair(alice_options={"idle_close": 10.0}, bob_options={"idle_close": 100.0})
    pair.clock.advance(9.9)
    pair.flush()
    assert pair.client.is_open and pair.alice.closed == pair.bob.closed == []
    pair.clock.advance(0.1)
    pair.flush()
    assert pair.client.goodbye_sent == "idle"
    assert pair.server.goodbye_received == "idle"
    assert pair.bob.closed == [(ALICE, "idle")]
    assert pair.alice.closed == [(BOB, "local")]
    assert pair.alice.transport.connections == [] and pair.bob.transport.connections == []
    assert pair.clock.getDelayedCalls() == []


def test_packets_keep_the_connection_from_idling() -> None:
    pair = MemoryPair(alice_options={"idle_close": 10.0}, bob_options={"idle_close": 100.0})
    pair.clock.advance(8)
    pair.server.send_packet(b"still here")
    pair.flush()
    pair.clock.advance(8)
    pair.flush()
    assert pair.client.is_open and pair.alice.closed == []
    pair.clock.advance(2)
    pair.flush()
    assert not pair.client.is_open
    assert pair.bob.closed == [(ALICE, "idle")]


def test_keepalive_pings_do_not_count_as_packets() -> None:
    pair = MemoryPair(alice_options={"idle_close": 10.0, "keepalive": 3.0}, bob_options={"idle_close": 100.0})
    for _ in range(10):
        pair.clock.advance(1)
        pair.flush()
    assert pair.bob.closed == [(ALICE, "idle")]


def test_stop_says_goodbye_shutdown_and_the_peer_reports_it() -> None:
    pair = MemoryPair()
    done: list[Any] = []
    pair.alice.transport.stop().addBoth(done.append)
    pair.flush()
    assert done == [None]
    assert pair.client.goodbye_sent == "shutdown"
    assert pair.bob.closed == [(ALICE, "shutdown")]
    assert pair.alice.closed == []  # our own stop is not reported to ourselves
    assert pair.alice.transport.connections == []


def test_send_after_stop_fails_not_connected() -> None:
    pair = MemoryPair()
    pair.alice.transport.stop()
    pair.flush()
    failure = []
    pair.alice.transport.send(BOB, "tcp://127.0.0.1:7002", b"x").addErrback(failure.append)
    assert failure and failure[0].check(NotConnected)


def test_stop_leaves_no_timers_behind() -> None:
    pair = MemoryPair()
    done: list[Any] = []
    pair.alice.transport.stop().addBoth(done.append)
    pair.flush()
    assert done == [None]
    assert pair.clock.getDelayedCalls() == []


def test_peer_vanishing_without_goodbye_is_reported_lost() -> None:
    pair = MemoryPair()
    pair.server.transport.abortConnection()  # bob's side just breaks (a crash, a cable)
    pair.flush()
    assert pair.alice.closed == [(BOB, "lost")]


def test_report_garbage_drops_the_connection_after_max_garbage() -> None:
    pair = MemoryPair()
    pair.bob.garbage = True
    for count in (1, 2):
        pair.client.send_packet(b"junk %d" % count)
        pair.flush()
        assert pair.server.is_open and pair.server.garbage == count
    pair.client.send_packet(b"junk 3")
    pair.flush()
    assert not pair.server.is_open
    assert pair.bob.transport.dropped_for_garbage == 1
    assert pair.bob.transport.connections == [] and pair.alice.transport.connections == []
    assert pair.alice.closed == [(BOB, "lost")]  # from alice's side it just broke


def test_dropping_a_peer_for_garbage_is_reported_as_a_local_close() -> None:
    pair = MemoryPair()
    pair.bob.garbage = True
    for count in range(3):
        pair.client.send_packet(b"junk %d" % count)
    pair.flush()
    assert pair.bob.transport.dropped_for_garbage == 1
    assert pair.bob.closed == [(ALICE, "local")]


# -- deterministic: bind() ---------------------------------------------------------------------


def string_conn(peer: Peer, direction: str, expected_peer: str | None = None) -> TcpConnection:
    """A connection on a StringTransport; an outgoing one has had the peer's hello, so it is ready."""
    conn = TcpConnection(peer.transport, direction, expected_peer=expected_peer)
    conn.makeConnection(StringTransport())
    if direction == "out":
        conn.dataReceived(encode_hello())
    return conn


def goodbye(reason: bytes) -> bytes:
    return encode_frame(FrameType.GOODBYE, 0, reason)


@pytest.mark.parametrize(
    ("me", "other", "keep"),
    [(ALICE, BOB, "out"), (BOB, ALICE, "in")],
)
@pytest.mark.parametrize("first", ["out", "in"])
def test_bind_keeps_the_connection_dialled_by_the_smaller_idurl(me: str, other: str, keep: str, first: str) -> None:
    peer = Peer(MemoryReactorClock(), me, **QUIET)
    conns = {"out": string_conn(peer, "out", expected_peer=other), "in": string_conn(peer, "in")}
    second = "in" if first == "out" else "out"
    peer.transport.bind(conns[first], other)
    peer.transport.bind(conns[second], other)
    drop = "in" if keep == "out" else "out"
    assert peer.transport.connection_for(other) is conns[keep]
    assert conns[drop].goodbye_sent == "duplicate"
    assert conns[drop].transport.value().endswith(goodbye(frames.GOODBYE_DUPLICATE))
    assert conns[drop].transport.disconnecting
    assert conns[keep].goodbye_sent is None and not conns[keep].transport.disconnecting
    conns[drop].connectionLost(Failure(ConnectionDone()))
    assert peer.transport.connection_for(other) is conns[keep]
    assert peer.closed == []  # closing our own duplicate is no news about the peer


def test_bind_of_the_same_connection_twice_changes_nothing() -> None:
    peer = Peer(MemoryReactorClock(), ALICE, **QUIET)
    conn = string_conn(peer, "in")
    peer.transport.bind(conn, BOB)
    peer.transport.bind(conn, BOB)
    assert peer.transport.connection_for(BOB) is conn and conn.is_open and conn.verified


def test_bind_replaces_a_closed_connection() -> None:
    peer = Peer(MemoryReactorClock(), ALICE, **QUIET)
    old, new = string_conn(peer, "out", expected_peer=BOB), string_conn(peer, "in")
    peer.transport.bind(old, BOB)
    old.close(frames.GOODBYE_IDLE)
    old.connectionLost(Failure(ConnectionDone()))
    assert peer.closed == [(BOB, "local")] and peer.transport.connection_for(BOB) is None
    peer.transport.bind(new, BOB)
    assert peer.transport.connection_for(BOB) is new and new.goodbye_sent is None


# -- deterministic: rule breaks on one connection ----------------------------------------------


def test_garbage_bytes_are_a_violation_and_abort_the_connection() -> None:
    peer = Peer(MemoryReactorClock(), BOB, **QUIET)
    conn = string_conn(peer, "in")
    conn.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert peer.transport.violations == 1
    assert not conn.is_open and conn.transport.disconnected  # abortConnection, not a polite close
    assert peer.packets == []
    conn.dataReceived(b"more junk")  # ignored after the drop
    assert peer.transport.violations == 1


def test_empty_message_is_a_violation() -> None:
    peer = Peer(MemoryReactorClock(), BOB, **QUIET)
    conn = string_conn(peer, "in")
    conn.dataReceived(encode_hello() + encode_frame(FrameType.MESSAGE, 0, b""))
    assert peer.transport.violations == 1 and not conn.is_open and peer.packets == []


def test_small_stream_is_a_violation_without_raising() -> None:
    peer = Peer(MemoryReactorClock(), BOB, **QUIET)
    conn = string_conn(peer, "in")
    start = encode_frame(FrameType.STREAM_START, 1, frames.STREAM_TOTAL.pack(10))
    conn.dataReceived(encode_hello() + start)
    assert peer.transport.violations == 1 and not conn.is_open


def test_small_packets_go_as_messages_and_big_ones_as_streams() -> None:
    peer = Peer(MemoryReactorClock(), ALICE, **QUIET)
    conn = string_conn(peer, "out", expected_peer=BOB)
    conn.transport.clear()
    conn.send_packet(b"x" * frames.MAX_MESSAGE)
    assert conn.transport.value()[:1] == bytes([FrameType.MESSAGE])
    assert conn.streams() == []
    conn.transport.clear()
    conn.send_packet(b"x" * (frames.MAX_MESSAGE + 1))
    assert conn.transport.value()[:1] == bytes([FrameType.STREAM_START])
    [stream] = conn.streams()
    assert stream.direction == "out" and stream.total == frames.MAX_MESSAGE + 1


def test_send_packet_on_a_closed_connection_fails() -> None:
    peer = Peer(MemoryReactorClock(), ALICE, **QUIET)
    conn = string_conn(peer, "out", expected_peer=BOB)
    conn.close(frames.GOODBYE_IDLE)
    conn.connectionLost(Failure(ConnectionDone()))
    failures: list[Failure] = []
    conn.send_packet(b"late").addErrback(failures.append)
    assert failures and failures[0].check(NotConnected)


def test_packet_bigger_than_max_packet_is_refused_before_dialling() -> None:
    clock = MemoryReactorClock()
    peer = Peer(clock, ALICE, max_packet=100, **QUIET)
    failures: list[Failure] = []
    peer.transport.send(BOB, "tcp://127.0.0.1:7002", b"x" * 101).addErrback(failures.append)
    assert failures and failures[0].check(ValueError)
    assert clock.tcpClients == []


def test_bad_contact_fails_not_connected_without_dialling() -> None:
    clock = MemoryReactorClock()
    peer = Peer(clock, ALICE, **QUIET)
    failures: list[Failure] = []
    peer.transport.send(BOB, "tcp://nowhere", b"x").addErrback(failures.append)
    assert failures and failures[0].check(NotConnected)
    assert "tcp://nowhere" in failures[0].getErrorMessage()
    assert clock.tcpClients == []


# -- real loopback sockets ---------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_small_packet_is_delivered_as_one_message() -> Any:
    alice, bob = yield start_pair()
    try:
        sent = yield alice.transport.send(BOB, bob.contact, b"http://x hello")
        assert sent is None
        yield bob.until(lambda: len(bob.packets) == 1, "the packet")
        [(data, conn)] = bob.packets
        assert data == b"http://x hello"
        assert conn.direction == "in" and conn.stats.frames_in == 2  # alice's AUTH, then one MESSAGE frame
    finally:
        yield stop_pair(alice, bob)


@pytest_twisted.inlineCallbacks
def test_one_mib_packet_is_delivered_whole_through_a_stream() -> Any:
    alice, bob = yield start_pair()
    big = bytes(range(256)) * (4 * 1024)  # 1 MiB
    assert len(big) == MIB > frames.MAX_MESSAGE
    try:
        yield alice.transport.send(BOB, bob.contact, big)
        yield bob.until(lambda: len(bob.packets) == 1, "the big packet")
        [(data, conn)] = bob.packets
        assert data == big
        chunks = -(-MIB // frames.MAX_CHUNK)
        assert conn.stats.frames_in == chunks + 3  # AUTH, STREAM_START, the chunks, STREAM_END
        assert conn.streams() == []
    finally:
        yield stop_pair(alice, bob)


@pytest_twisted.inlineCallbacks
def test_sends_to_one_idurl_share_one_connection() -> Any:
    alice, bob = yield start_pair()
    try:
        yield defer.gatherResults(
            [alice.transport.send(BOB, bob.contact, b"one"), alice.transport.send(BOB, bob.contact, b"two")]
        )
        yield alice.transport.send(BOB, bob.contact, b"three")
        yield bob.until(lambda: len(bob.packets) == 3, "three packets")
        assert sorted(bob.payloads()) == [b"one", b"three", b"two"]
        assert len({id(conn) for _data, conn in bob.packets}) == 1
        assert len(alice.transport.connections) == 1 and len(bob.transport.connections) == 1
        [conn] = alice.transport.connections
        assert alice.transport.connection_for(BOB) is conn and conn.packets_out == 3
    finally:
        yield stop_pair(alice, bob)


@pytest.mark.parametrize("bob_first", [False, True])
@pytest_twisted.inlineCallbacks
def test_both_dialling_at_once_keep_the_connection_alice_dialled(bob_first: bool) -> Any:
    """Alice and bob dial each other at once: each binds the other's connection once its AUTH proves
    the peer, and both keep the one dialled by the smaller IDURL (alice's); the other says goodbye."""
    alice, bob = yield start_pair()
    try:
        alice.auto_bind = bob.auto_bind = False  # only the AUTH frames bind
        sends = [alice.transport.send(BOB, bob.contact, b"from alice"), bob.transport.send(ALICE, alice.contact, b"b")]
        yield defer.gatherResults(sends[::-1] if bob_first else sends, consumeErrors=True)
        yield alice.until(lambda: len(alice.transport.connections) == 1, "one connection left at alice's")
        yield bob.until(lambda: len(bob.transport.connections) == 1, "one connection left at bob's")

        [alice_conn] = alice.transport.connections
        [bob_conn] = bob.transport.connections
        assert alice_conn.direction == "out" and alice.transport.connection_for(BOB) is alice_conn
        assert bob_conn.direction == "in" and bob.transport.connection_for(ALICE) is bob_conn
        yield alice.until(lambda: alice_conn.verified, "bob's proof on alice's connection")
        assert bob_conn.verified and alice_conn.authenticated == BOB and bob_conn.authenticated == ALICE
        assert alice.closed == [] and bob.closed == []  # closing one's own duplicate is no news
        before = len(alice.packets), len(bob.packets)
        yield bob.transport.send(ALICE, alice.contact, b"over alice's connection")
        yield alice.transport.send(BOB, bob.contact, b"over her own")
        yield alice.until(lambda: len(alice.packets) == before[0] + 1, "bob's next packet")
        yield bob.until(lambda: len(bob.packets) == before[1] + 1, "alice's next packet")
        assert alice.packets[-1] == (b"over alice's connection", alice_conn)
        assert bob.packets[-1] == (b"over her own", bob_conn)
    finally:
        yield stop_pair(alice, bob)


@pytest_twisted.inlineCallbacks
def test_stop_sends_goodbye_shutdown_to_the_peer() -> Any:
    alice, bob = yield start_pair()
    try:
        yield alice.transport.send(BOB, bob.contact, ALICE.encode())
        yield bob.until(lambda: bob.transport.connection_for(ALICE) is not None, "bob to bind alice")
        yield alice.transport.stop()
        assert alice.transport.connections == [] and alice.transport.listening_port is None
        yield bob.until(lambda: bool(bob.closed), "bob to see alice go")
        assert bob.closed == [(ALICE, "shutdown")]
        assert alice.closed == []
    finally:
        yield stop_pair(alice, bob)


@pytest_twisted.inlineCallbacks
def test_three_garbage_reports_drop_the_connection() -> Any:
    alice, bob = yield start_pair()
    try:
        bob.garbage = True
        for count in range(3):
            yield alice.transport.send(BOB, bob.contact, b"junk %d" % count)
        yield alice.until(lambda: bool(alice.closed), "alice to lose the connection")
        assert alice.closed == [(BOB, "lost")]
        assert bob.transport.dropped_for_garbage == 1
        yield bob.until(lambda: bob.transport.connections == [], "bob to forget the connection")
        assert len(bob.packets) == 3
    finally:
        yield stop_pair(alice, bob)


@pytest_twisted.inlineCallbacks
def test_connecting_to_a_closed_port_fails_not_connected() -> Any:
    reactor = real_reactor()
    alice = Peer(reactor, ALICE)
    probe = Peer(reactor, BOB)
    port = yield probe.transport.listen(0, interface="127.0.0.1")
    yield probe.transport.stop()  # the port is free again: nobody listens there
    contact = f"tcp://127.0.0.1:{port}"
    try:
        with pytest.raises(NotConnected) as info:
            yield alice.transport.send(BOB, contact, b"hello")
        assert contact in str(info.value)
        assert alice.transport.connections == [] and alice.transport.connection_for(BOB) is None
    finally:
        yield alice.transport.stop()
