"""Binding a TCP connection to a peer takes that peer's proof on that connection (all in memory).

The attack these tests mount (issue 11, point 5): a signed packet, or a proof, captured from one
connection and replayed on a connection of the attacker's own, after the target restarted, must not
make the target send that peer's packets to the attacker.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.test import iosim

from bitdust.transport.tcp import frames
from bitdust.transport.tcp.connections import TcpConnection
from bitdust.transport.tcp.frames import FrameDecoder, FrameType, encode_frame, encode_hello
from tests.transport.conftest import ALICE, BOB, CAROL, MALLORY, Directory
from tests.transport.test_connections import QUIET, Peer

ALICE_TCP = "tcp://127.0.0.1:7001"


def node(idurl: str, clock: Any = None, **options: Any) -> Peer:
    peer = Peer(clock or MemoryReactorClock(), idurl, **{**QUIET, "idle_close": None, **options})
    peer.auto_bind = False  # only proofs bind: what a verified packet did before is the attack
    return peer


def incoming(peer: Peer) -> TcpConnection:
    conn = TcpConnection(peer.transport, "in")
    conn.makeConnection(StringTransport())
    return conn


def dialler(peer: Peer, expected: str, their_nonce: bytes) -> TcpConnection:
    """``peer``'s outgoing connection to ``expected`` after it got a hello carrying ``their_nonce``."""
    conn = TcpConnection(peer.transport, "out", expected_peer=expected)
    conn.makeConnection(StringTransport())
    conn.dataReceived(encode_hello(their_nonce))
    return conn


def frames_of(raw: bytes) -> list[frames.Frame]:
    decoder = FrameDecoder()
    return list(decoder.feed(raw))


def auth_frame(conn: TcpConnection) -> bytes:
    [auth] = [f for f in frames_of(conn.transport.value()) if f.type is FrameType.AUTH]
    return encode_frame(FrameType.AUTH, 0, bytes(auth.body))


def test_two_peers_bind_each_other_once_both_proved_who_they_are() -> None:
    clock = MemoryReactorClock()
    alice, bob = node(ALICE, clock), node(BOB, clock)
    client = TcpConnection(alice.transport, "out", expected_peer=BOB)
    server = TcpConnection(bob.transport, "in")
    pump = iosim.connect(
        server,
        iosim.FakeTransport(server, isServer=True),
        client,
        iosim.FakeTransport(client, isServer=False),
        clock=clock,
    )
    pump.flush()
    assert bob.transport.connection_for(ALICE) is server and server.verified and server.authenticated == ALICE
    assert client.verified and client.authenticated == BOB
    client.send_packet(b"from alice")
    server.send_packet(b"from bob")
    pump.flush()
    assert bob.payloads() == [b"from alice"] and alice.payloads() == [b"from bob"]


def test_the_dialler_proves_itself_before_its_first_packet() -> None:
    alice = node(ALICE)
    conn = TcpConnection(alice.transport, "out", expected_peer=BOB)
    conn.makeConnection(StringTransport())
    sent: list[Any] = []
    conn.send_packet(b"first packet").addBoth(sent.append)
    assert sent == [] and not conn.ready  # held until the peer's hello gives us its nonce
    conn.dataReceived(encode_hello())
    assert sent == [None]
    kinds = [f.type for f in frames_of(conn.transport.value())]
    assert kinds == [FrameType.AUTH, FrameType.MESSAGE]


def test_a_verified_packet_on_a_connection_that_proved_nothing_never_binds_it() -> None:
    bob = node(BOB)
    mallory = incoming(bob)
    mallory.dataReceived(encode_hello() + encode_frame(FrameType.MESSAGE, 0, ALICE.encode() + b" signed by alice"))
    assert bob.packets and bob.packets[0][1] is mallory  # handed on, to be verified and answered
    assert bob.transport.connection_for(ALICE) is None and not mallory.verified and mallory.peer is None


def test_until_alice_is_bound_sending_to_her_dials_her_own_contact() -> None:
    bob = node(BOB)
    mallory = incoming(bob)
    mallory.dataReceived(encode_hello() + encode_frame(FrameType.MESSAGE, 0, ALICE.encode() + b" replayed"))
    mallory.transport.clear()
    bob.transport.send(ALICE, ALICE_TCP, b"ping for alice")
    [(host, port, *_rest)] = bob.reactor.tcpClients
    assert (host, port) == ("127.0.0.1", 7001)
    assert mallory.transport.value() == b""


def test_a_proof_replayed_on_a_new_connection_after_a_restart_binds_nothing() -> None:
    bob = node(BOB)
    first = incoming(bob)
    alice_out = dialler(node(ALICE), BOB, first.nonce)
    captured_hello, captured_auth = encode_hello(alice_out.nonce), auth_frame(alice_out)
    first.dataReceived(captured_hello + captured_auth)
    assert bob.transport.connection_for(ALICE) is first  # the real alice, on her own connection

    restarted = node(BOB)  # a new process: nothing remembered of what it saw before
    mallory = incoming(restarted)
    mallory.dataReceived(captured_hello + captured_auth)
    assert restarted.transport.connection_for(ALICE) is None and not mallory.verified
    assert restarted.transport.auth_refused == 1 and restarted.transport.violations == 1
    assert not mallory.is_open  # a proof over the wrong nonce is no honest mistake


def test_a_proof_meant_for_another_node_does_not_bind_and_is_no_violation() -> None:
    """Mallory hands alice bob's nonce on a connection alice dialled to carol: alice signs for carol."""
    bob = node(BOB)
    target = incoming(bob)
    alice_to_carol = dialler(node(ALICE), CAROL, target.nonce)
    target.dataReceived(encode_hello(alice_to_carol.nonce) + auth_frame(alice_to_carol))
    assert bob.transport.connection_for(ALICE) is None and not target.verified
    assert bob.transport.auth_refused == 1 and target.is_open


def test_a_proof_signed_with_another_key_drops_the_connection(directory: Directory) -> None:
    bob = node(BOB)
    target = incoming(bob)
    impostor = node(ALICE, authenticator=directory.authenticator(ALICE, key=directory.keys[MALLORY]))
    forged = dialler(impostor, BOB, target.nonce)
    target.dataReceived(encode_hello(forged.nonce) + auth_frame(forged))
    assert bob.transport.connection_for(ALICE) is None and not target.is_open
    assert bob.transport.violations == 1


def test_a_second_proof_on_one_connection_is_a_violation() -> None:
    bob = node(BOB)
    target = incoming(bob)
    alice_out = dialler(node(ALICE), BOB, target.nonce)
    target.dataReceived(encode_hello(alice_out.nonce) + auth_frame(alice_out) + auth_frame(alice_out))
    assert bob.transport.violations == 1 and not target.is_open


def test_a_send_waits_for_the_peers_proof_being_checked_instead_of_dialling(directory: Directory) -> None:
    pending: defer.Deferred[Any] = defer.Deferred()
    checker = directory.authenticator(BOB)
    checker.identity_for = lambda idurl: pending  # alice's identity is still being fetched
    bob = node(BOB, authenticator=checker)
    target = incoming(bob)
    alice_out = dialler(node(ALICE), BOB, target.nonce)
    target.dataReceived(encode_hello(alice_out.nonce) + auth_frame(alice_out))
    target.transport.clear()
    sent: list[Any] = []
    bob.transport.send(ALICE, ALICE_TCP, b"answer to alice").addBoth(sent.append)
    assert bob.reactor.tcpClients == [] and sent == []
    pending.callback(directory.identities[ALICE])
    assert sent == [None] and bob.transport.connection_for(ALICE) is target
    kinds = [f.type for f in frames_of(encode_hello() + target.transport.value())]
    assert kinds == [FrameType.AUTH, FrameType.MESSAGE]  # bob's own proof, then the answer
