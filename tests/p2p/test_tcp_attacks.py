"""Peers' attacks on the TCP transport, mounted against real gateways on loopback (issue 11).

Alice and bob are two nodes in one process: a Gateway and a TcpTransport each, real keys, signed
identities naming their loopback ports, RSA work in worker threads. Mallory is a raw client that
speaks our wire format. Point 5: a signed Identity packet captured before bob restarted, replayed
on mallory's connection after, must not bind that connection to alice; bob's next ping to alice
reaches alice. Point 3: mallory's unfinished streams on 8 connections stay under bob's budget while
alice's pings and a 4 MiB Data packet still reach bob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
import pytest_twisted
from twisted.internet import defer, task, threads
from twisted.internet.protocol import ClientFactory, Protocol

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p.gateway import Gateway
from bitdust.p2p.packet import DEFAULT_LIMITS
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.auth import Authenticator
from bitdust.transport.tcp.budget import READ_SIZE
from bitdust.transport.tcp.connections import TcpTransport
from bitdust.transport.tcp.frames import FrameDecoder, FrameType, encode_frame, encode_hello
from bitdust.userid.identity import Identity
from tests.p2p.test_gateway import FakeCache

ALICE = "http://127.0.0.1:8084/alice.xml"
BOB = "http://127.0.0.1:8084/bob.xml"
MIB = 1024 * 1024
WAIT = 20.0


def reactor() -> Any:
    from twisted.internet import reactor as global_reactor

    return global_reactor


def run_blocking(func: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return threads.deferToThread(func, *args, **kwargs)


def until(predicate: Callable[[], bool], what: str) -> defer.Deferred[None]:
    """Poll ``predicate`` until it holds; fail after WAIT seconds."""
    clock = reactor()
    deadline = clock.seconds() + WAIT

    @defer.inlineCallbacks
    def poll() -> Any:
        while not predicate():
            if clock.seconds() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            yield task.deferLater(clock, 0.02, lambda: None)

    return poll()


@attrs.define(eq=False)
class Node:
    """One node's gateway and TCP transport; ``start`` builds them afresh (a restart)."""

    idurl: str
    key: RsaKey
    port: int = 0
    identity: Identity | None = None
    cache: FakeCache | None = None
    gateway: Gateway | None = None
    tcp: TcpTransport | None = None
    handled: list[tuple[str, Any]] = attrs.field(factory=list)
    sent: list[bytes] = attrs.field(factory=list)

    @defer.inlineCallbacks
    def start(self, others: list[Identity]) -> Any:
        cache = self.cache = FakeCache(*others)
        self.handled.clear()
        gateway = self.gateway = Gateway(
            clock=reactor(),
            identity=lambda: self.identity,
            signing_key=lambda: self.key,
            cache=cache,
            run_blocking=run_blocking,
            default_timeout=6.0,
        )
        authenticator = Authenticator(
            identity=lambda: self.identity,
            signing_key=lambda: self.key,
            identity_for=lambda idurl: defer.succeed(cache.get(idurl)) if cache.get(idurl) else cache.fetch(idurl),
            run_blocking=run_blocking,
        )
        tcp = self.tcp = TcpTransport(
            reactor(),
            on_packet=gateway.inbox,
            max_packet=DEFAULT_LIMITS.max_packet,
            idle_close=None,
            authenticator=authenticator,
        )
        tcp.local_idurl = lambda: self.idurl
        self.port = yield tcp.listen(self.port, interface="127.0.0.1")
        identity = Identity(
            sources=[self.idurl], contacts=[f"tcp://127.0.0.1:{self.port}"], public_key=self.key.public_openssh()
        )
        self.identity = identity.signed(self.key)
        cache.store(self.identity)
        real_send = tcp.send

        def recording_send(idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
            self.sent.append(data)
            return real_send(idurl, contact, data)

        tcp.send = recording_send  # type: ignore[method-assign]
        gateway.add_transport(tcp)
        for command in (commands.IDENTITY, commands.DATA):
            gateway.register(command, lambda packet, source: self.handled.append((packet.command, source)) or b"")

    def stop(self) -> defer.Deferred[Any]:
        if self.gateway is not None:
            self.gateway.stop()
        return self.tcp.stop() if self.tcp is not None else defer.succeed(None)


class Mallory(Protocol):
    """A raw connection: writes ``blob`` and records every frame the target sends back."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.decoder = FrameDecoder()
        self.frames: list[frames.Frame] = []

    def connectionMade(self) -> None:
        self.transport.write(self.blob)

    def dataReceived(self, data: bytes) -> None:
        self.frames.extend(self.decoder.feed(data))


def connect_mallory(port: int, blob: bytes) -> tuple[Mallory, Any]:
    mallory = Mallory(blob)
    connector = reactor().connectTCP("127.0.0.1", port, ClientFactory.forProtocol(lambda: mallory))
    return mallory, connector


@pytest.fixture(scope="module")
def keys() -> dict[str, RsaKey]:
    return {ALICE: RsaKey.generate(1024), BOB: RsaKey.generate(1024)}


@pytest.fixture
def pair(keys: dict[str, RsaKey]) -> Iterator[tuple[Node, Node]]:
    alice, bob = Node(ALICE, keys[ALICE]), Node(BOB, keys[BOB])
    yield alice, bob


@defer.inlineCallbacks
def start_pair(alice: Node, bob: Node) -> Any:
    yield alice.start([])
    yield bob.start([alice.identity])
    alice.cache.store(bob.identity)


@pytest_twisted.inlineCallbacks
def test_an_identity_packet_replayed_after_a_restart_does_not_hijack_the_route(pair: tuple[Node, Node]) -> Any:
    alice, bob = pair
    connectors: list[Any] = []
    try:
        yield start_pair(alice, bob)
        yield alice.gateway.send(commands.IDENTITY, BOB, alice.identity.to_xml().encode())
        [captured] = alice.sent  # alice's signed Identity packet, as it went over the wire

        yield bob.stop()
        # A new gateway and transport with nothing remembered: a real node keeps its replay memory
        # across restarts (tests/p2p/test_replay_restart.py); here it is left out so that the binding
        # rule alone is what stops the hijack.
        yield bob.start([alice.identity])
        mallory, connector = connect_mallory(bob.port, encode_hello() + encode_frame(FrameType.MESSAGE, 0, captured))
        connectors.append(connector)
        yield until(lambda: bob.handled, "bob to accept the replayed packet")  # it verifies: alice signed it
        [(command, source)] = bob.handled
        assert command == commands.IDENTITY and source.direction == "in"
        assert source.peer is None and not source.verified  # ... but it never bound mallory's connection
        assert bob.tcp.connection_for(ALICE) is not source

        alice.handled.clear()
        ack = yield bob.gateway.send(commands.IDENTITY, ALICE, bob.identity.to_xml().encode())
        assert ack.command == commands.ACK and ack.creator_id == ALICE
        assert [command for command, _source in alice.handled] == [commands.IDENTITY]
        messages = [f for f in mallory.frames if f.type in (FrameType.MESSAGE, FrameType.STREAM_START)]
        assert messages == []  # mallory got bob's hello and nothing of his packets to alice
    finally:
        for connector in connectors:
            connector.disconnect()
        yield defer.DeferredList([alice.stop(), bob.stop()], consumeErrors=True)


def unfinished_streams(streams: int = 4) -> bytes:
    """The hello and ``streams`` streams announced as the biggest packet, each a chunk short of it."""
    total = DEFAULT_LIMITS.max_packet
    blob = [encode_hello()]
    for sid in range(1, streams + 1):
        blob.append(encode_frame(FrameType.STREAM_START, sid, frames.STREAM_TOTAL.pack(total)))
        blob.extend(encode_frame(FrameType.STREAM_CHUNK, sid, b"a" * frames.MAX_CHUNK) for _ in range(8))
    return b"".join(blob)


@pytest_twisted.inlineCallbacks
def test_unfinished_streams_flood_is_held_while_alice_pings_and_sends_4_mib(pair: tuple[Node, Node]) -> Any:
    alice, bob = pair
    connectors: list[Any] = []
    try:
        yield start_pair(alice, bob)
        blob = unfinished_streams()  # 8 MiB a connection; before the budget bob kept all of it
        for _ in range(8):
            connectors.append(connect_mallory(bob.port, blob)[1])
        budget = bob.tcp.receive_budget
        per_stranger = budget.limits.per_stranger
        yield until(
            lambda: len(bob.tcp.connections) == 8 and all(c.reading_paused for c in bob.tcp.connections),
            "every flooding connection to be held back",
        )
        assert budget.strangers_held <= 8 * (per_stranger + READ_SIZE)

        ack = yield alice.gateway.send(commands.IDENTITY, BOB, b"ping")
        assert ack.command == commands.ACK
        data = yield alice.gateway.send(commands.DATA, BOB, bytes(range(256)) * (16 * 1024))  # 4 MiB
        assert data.command == commands.ACK
        assert [command for command, _source in bob.handled] == [commands.IDENTITY, commands.DATA]
        assert budget.strangers_held <= 8 * (per_stranger + READ_SIZE)
        assert budget.peak <= 8 * (per_stranger + READ_SIZE) + DEFAULT_LIMITS.max_packet
    finally:
        for connector in connectors:
            connector.disconnect()
        yield defer.DeferredList([alice.stop(), bob.stop()], consumeErrors=True)
