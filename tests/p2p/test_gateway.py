"""The gateway's inbox and outbox: two gateways (alice, bob) in one process on a ``task.Clock``.

A fake in-memory transport carries the encoded packets between the two gateways on the next turn of
the clock (``callLater(0)``); a fake identity cache knows both identities. Nothing touches a socket
or a thread, so every test is synchronous and deterministic. ``test_packet_out.py`` reuses the
harness built here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import attrs
import pytest
from twisted.internet import defer, task
from twisted.python.failure import Failure

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p import packet as packets
from bitdust.p2p.errors import DeliveryFailed
from bitdust.p2p.gateway import NO_ACK, Gateway, Refused
from bitdust.p2p.packet import Packet
from bitdust.transport.errors import NotConnected
from bitdust.userid.errors import IdentityFetchError
from bitdust.userid.identity import Identity
from bitdust.userid.idurl import IdUrl, parse_user_ref
from tests.userid.helpers import make_identity

START = 1_700_000_000.0
ALICE = "http://127.0.0.1:8084/alice.xml"
BOB = "http://127.0.0.1:8084/bob.xml"
BOB2 = "http://127.0.0.1:8085/bob.xml"
CAROL = "http://127.0.0.1:8084/carol.xml"
ALICE_TCP = "tcp://127.0.0.1:7001"
BOB_TCP = "tcp://127.0.0.1:7002"


def run_blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    """The engine's worker-thread call, made synchronous."""
    return defer.maybeDeferred(fn, *args, **kwargs)


def outcome(d: defer.Deferred[Any]) -> list[Any]:
    """A list that receives the result (or Failure) of ``d`` once it fires; empty while pending."""
    box: list[Any] = []
    d.addBoth(box.append)
    return box


def delivery_failure(box: list[Any]) -> DeliveryFailed:
    assert box, "the deferred has not fired"
    failure = box[0]
    assert isinstance(failure, Failure) and failure.check(DeliveryFailed), failure
    return failure.value


class FakeCache:
    """The identity cache API the gateway uses: ``get``, ``fetch``, ``resolve``, ``store``, ``refresh``.

    Binding is modelled as the real cache has it: ``known`` maps only *bound* sources to their
    identity, so ``get`` never answers by a source a document merely claims. Documents given to
    the constructor or stored bind every source (as the real ``put``/``store`` do); :meth:`hold`
    binds only some; a fetch binds the IDURL it was fetched from and the document's primary.
    """

    def __init__(self, *identities: Identity) -> None:
        self.known: dict[str, Identity] = {}
        self.remote: dict[str, Identity] = {}
        self.fetches: list[str] = []
        self.refreshes: list[str] = []
        self.claims: list[tuple[str, int]] = []
        for identity in identities:
            self._keep(identity)

    def _keep(self, identity: Identity, bound: Collection[str] | None = None) -> None:
        """Hold ``identity``, binding ``bound`` among its sources (every source when None)."""
        for source in identity.sources:
            if bound is None or source.url in bound:
                self.known[source.url] = identity

    def hold(self, identity: Identity, *, bound: Collection[str]) -> None:
        """Hold ``identity`` with only ``bound`` of its sources bound; the others stay claims."""
        self._keep(identity, bound)

    def forget(self, idurl: str) -> None:
        identity = self.known[idurl]
        for source in identity.sources:
            self.known.pop(source.url, None)

    def resolve(self, idurl: IdUrl | str) -> IdUrl:
        return parse_user_ref(idurl)

    def get(self, idurl: IdUrl | str) -> Identity | None:
        return self.known.get(parse_user_ref(idurl).url)

    def fetch(self, idurl: IdUrl | str) -> defer.Deferred[Identity]:
        url = parse_user_ref(idurl).url
        self.fetches.append(url)
        identity = self.remote.get(url)
        if identity is None:
            return defer.fail(IdentityFetchError(f"{url} answered HTTP 404", reason="http-status", url=url))
        self._keep(identity, {url, identity.idurl.url})
        return defer.succeed(identity)

    def store(self, identity: Identity) -> defer.Deferred[bool]:
        self._keep(identity)
        return defer.succeed(True)

    def refresh(self, idurl: IdUrl | str, *, reason: str = "") -> defer.Deferred[Identity | None]:
        """Like the real cache's: take the remote document when it is newer, never fail."""
        url = parse_user_ref(idurl).url
        self.refreshes.append(url)
        newer, held = self.remote.get(url), self.get(url)
        if newer is not None and (held is None or newer.revision > held.revision):
            self._keep(newer)
        return defer.succeed(self.get(url))

    def refresh_if_older(self, idurl: IdUrl | str, revision: int) -> defer.Deferred[Identity | None]:
        self.claims.append((parse_user_ref(idurl).url, revision))
        held = self.get(idurl)
        if held is not None and held.revision >= revision:
            return defer.succeed(held)
        return self.refresh(idurl)


class FakeConnection:
    """What a transport hands ``Gateway.inbox`` as ``source``."""

    def __init__(self, owner: FakeTransport, host: str) -> None:
        self.owner = owner
        self.host = host
        self.garbage: list[str] = []

    def report_garbage(self, reason: str) -> None:
        self.garbage.append(reason)


class FakeTransport:
    """Proto "tcp": ``send`` hands the bytes to the gateway listening at ``contact`` on the next clock turn.

    ``fail`` makes every send fail (a refused connection), ``lose`` silently drops the next that many
    packets (sent, but never arriving), ``raise_error`` makes ``send`` raise instead of returning a Deferred.
    """

    proto = "tcp"

    def __init__(self, net: Net, node_name: str) -> None:
        self.net = net
        self.node_name = node_name
        self.conn = FakeConnection(self, f"{node_name}-peer-host")
        self.sent: list[tuple[float, str, str, bytes]] = []
        self.bound: list[tuple[Any, str]] = []
        self.fail = False
        self.lose = 0
        self.raise_error = False

    def send(self, idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
        self.sent.append((self.net.clock.seconds(), idurl, contact, data))
        if self.raise_error:
            raise RuntimeError("transport exploded")
        if self.fail:
            return defer.fail(NotConnected(f"cannot connect to {contact}: connection refused"))
        target = self.net.by_contact.get(contact)
        if target is None:
            return defer.fail(NotConnected(f"cannot connect to {contact}: nobody listens there"))
        if self.lose:
            self.lose -= 1
            return defer.succeed(None)
        self.net.clock.callLater(0, target.gateway.inbox, data, target.transport.conn)
        return defer.succeed(None)

    def bind(self, conn: Any, idurl: str) -> None:
        self.bound.append((conn, idurl))

    def sent_commands(self) -> list[str]:
        return [packets.decode(data).command for _t, _i, _c, data in self.sent]


@attrs.define(eq=False)
class Node:
    name: str
    key: RsaKey
    identity: Identity
    cache: FakeCache
    transport: FakeTransport
    gateway: Gateway
    events: list[tuple[str, str, Any]] = attrs.field(factory=list)
    handled: list[Packet] = attrs.field(factory=list)

    @property
    def idurl(self) -> str:
        return self.identity.idurl.url


class Net:
    """Alice and bob, each with a gateway, a fake transport and a cache that knows both of them."""

    def __init__(
        self,
        alice_key: RsaKey,
        bob_key: RsaKey,
        *,
        bob_sources: list[str] | None = None,
        bob_contacts: tuple[str, ...] = (BOB_TCP,),
        **gateway_options: Any,
    ) -> None:
        self.clock = task.Clock()
        self.clock.advance(START)
        self.by_contact: dict[str, Node] = {}
        alice_id = make_identity(alice_key, "alice", sources=[ALICE], contacts=(ALICE_TCP,))
        bob_id = make_identity(bob_key, "bob", sources=bob_sources or [BOB], contacts=bob_contacts)
        self.alice = self._node("alice", alice_key, alice_id, FakeCache(alice_id, bob_id), gateway_options)
        self.bob = self._node("bob", bob_key, bob_id, FakeCache(alice_id, bob_id), gateway_options)

    def _node(self, name: str, key: RsaKey, identity: Identity, cache: FakeCache, options: dict[str, Any]) -> Node:
        transport = FakeTransport(self, name)
        gateway = Gateway(
            clock=self.clock,
            identity=lambda: identity,
            signing_key=lambda: key,
            cache=cache,
            run_blocking=run_blocking,
            **options,
        )
        gateway.add_transport(transport)
        node = Node(name, key, identity, cache, transport, gateway)
        gateway.observers.append(lambda event, idurl, detail: node.events.append((event, idurl, detail)))
        for contact in identity.contacts:
            self.by_contact[contact] = node
        return node

    def flush(self) -> None:
        """Run everything due now, including what it schedules for now (packet hops are callLater(0))."""
        self.clock.advance(0)

    def handle(self, node: Node, command: str, answer: Callable[[Packet], Any] = lambda packet: b"") -> None:
        """Register a handler on ``node`` that records the packet and returns ``answer(packet)``."""

        def handler(packet: Packet, _source: Any) -> Any:
            node.handled.append(packet)
            return answer(packet)

        node.gateway.register(command, handler)

    def wire(self, key: RsaKey, *, sign: bool = True, **fields: Any) -> bytes:
        """Encoded packet from alice to bob by default, dated now, signed by ``key``."""
        values: dict[str, Any] = dict(
            command=commands.IDENTITY,
            owner_id=ALICE,
            creator_id=ALICE,
            packet_id="hand-made-1",
            date=self.clock.seconds(),
            payload=b"hello",
            remote_id=BOB,
        )
        values.update(fields)
        packet = Packet(**values)
        return packets.encode(packets.sign(packet, key) if sign else packet)

    def inject(self, node: Node, data: bytes) -> None:
        """Bytes arriving at ``node`` from the wire."""
        node.gateway.inbox(data, node.transport.conn)
        self.flush()


@pytest.fixture
def net(alice_key: RsaKey, bob_key: RsaKey) -> Net:
    return Net(alice_key, bob_key)


# -- the happy path ----------------------------------------------------------------------------


def test_ping_is_acked_and_result_is_the_ack_packet(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY, lambda packet: b"pong")
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, b"ping", timeout=9, retries=2))
    assert box == []
    net.flush()
    ack = box[0]
    assert isinstance(ack, Packet)
    assert ack.command == commands.ACK
    assert ack.payload == b"pong"
    assert ack.creator_id == BOB and ack.remote_id == ALICE
    [ping] = net.bob.handled
    assert ping.packet_id == ack.packet_id and ping.payload == b"ping" and ping.creator_id == ALICE
    assert net.alice.gateway.outgoing == {}
    assert net.alice.transport.sent_commands() == [commands.IDENTITY]
    assert net.bob.transport.sent_commands() == [commands.ACK]


def test_handler_receives_the_connection_but_a_verified_packet_never_binds_it(net: Net) -> None:
    """A signed packet can be replayed on anyone's connection: binding is the transport's proof."""
    sources: list[Any] = []
    net.bob.gateway.register(commands.IDENTITY, lambda packet, source: sources.append(source))
    outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.flush()
    assert sources == [net.bob.transport.conn]
    assert net.bob.transport.bound == [] and net.alice.transport.bound == []


def test_observers_hear_inbox_packets_and_outbox_done(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.flush()
    # bob's own Ack is an outgoing packet too: it is "done" once written
    assert [(event, idurl) for event, idurl, _detail in net.bob.events] == [
        ("inbox-packet", ALICE),
        ("outbox-done", ALICE),
    ]
    assert [(event, idurl) for event, idurl, _detail in net.alice.events] == [
        ("inbox-packet", BOB),
        ("outbox-done", BOB),
    ]
    assert net.alice.events[0][2].command == commands.ACK


def test_a_broken_observer_does_not_break_the_inbox(net: Net) -> None:
    def broken(event: str, idurl: str, detail: Any) -> None:
        raise RuntimeError("observer bug")

    net.bob.gateway.observers.insert(0, broken)
    net.handle(net.bob, commands.IDENTITY)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.flush()
    assert isinstance(box[0], Packet) and len(net.bob.handled) == 1


def test_handler_may_answer_later_with_a_deferred(net: Net) -> None:
    later: defer.Deferred[bytes] = defer.Deferred()
    net.handle(net.bob, commands.DATA, lambda packet: later)
    box = outcome(net.alice.gateway.send(commands.DATA, BOB, b"x", timeout=9, retries=0))
    net.flush()
    assert box == [] and len(net.bob.handled) == 1
    net.clock.advance(2)
    later.callback(b"stored")
    net.flush()
    assert box[0].command == commands.ACK and box[0].payload == b"stored"


# -- refusals and failures reported to the sender ----------------------------------------------


def test_handler_refused_gives_delivery_failed_with_the_message(net: Net) -> None:
    def refuse(packet: Packet) -> bytes:
        raise Refused("you are not my supplier")

    net.handle(net.bob, commands.DATA, refuse)
    box = outcome(net.alice.gateway.send(commands.DATA, BOB, b"x"))
    net.flush()
    error = delivery_failure(box)
    assert error.reason == "failed"
    assert "you are not my supplier" in str(error)
    assert net.bob.transport.sent_commands() == [commands.FAIL]
    # A Fail proves bob is online: observers hear a refusal, not a failed delivery.
    assert net.alice.events[-1][:2] == ("outbox-refused", BOB)


def test_handler_crash_answers_fail_internal_error(net: Net) -> None:
    def crash(packet: Packet) -> bytes:
        raise KeyError("secret detail")

    net.handle(net.bob, commands.DATA, crash)
    box = outcome(net.alice.gateway.send(commands.DATA, BOB, b"x"))
    net.flush()
    error = delivery_failure(box)
    assert error.reason == "failed"
    assert "internal error" in str(error)
    assert "secret detail" not in str(error)


def test_unregistered_command_is_answered_with_fail(net: Net) -> None:
    box = outcome(net.alice.gateway.send(commands.DATA, BOB, b"x"))
    net.flush()
    error = delivery_failure(box)
    assert error.reason == "failed"
    assert "unknown command Data" in str(error)
    assert net.bob.transport.sent_commands() == [commands.FAIL]
    assert net.bob.gateway.stats.by_command[commands.DATA].packets_in == 1


def test_no_ack_handler_sends_no_answer(net: Net) -> None:
    net.handle(net.bob, commands.MESSAGE, lambda packet: NO_ACK)
    box = outcome(net.alice.gateway.send(commands.MESSAGE, BOB, b"hi", timeout=3, retries=0))
    net.flush()
    assert net.bob.transport.sent == [] and box == []
    net.clock.advance(3)
    assert delivery_failure(box).reason == "timeout"


def test_register_refuses_ack_fail_unknown_and_second_handler(net: Net) -> None:
    for command in (commands.ACK, commands.FAIL, "Nope"):
        with pytest.raises(ValueError):
            net.bob.gateway.register(command, lambda packet, source: None)
    net.handle(net.bob, commands.DATA)
    with pytest.raises(ValueError, match="already has a handler"):
        net.handle(net.bob, commands.DATA)
    net.bob.gateway.unregister(commands.DATA)
    net.handle(net.bob, commands.DATA)


# -- replays -----------------------------------------------------------------------------------


def test_retried_packet_is_not_dispatched_twice_but_acked_again(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.bob.transport.lose = 1  # bob's first Ack never arrives
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    net.flush()
    assert box == [] and len(net.bob.handled) == 1
    net.clock.advance(3)  # alice's second attempt
    net.flush()
    assert isinstance(box[0], Packet) and box[0].command == commands.ACK
    assert len(net.bob.handled) == 1
    assert net.bob.gateway.stats.dropped["replay"] == 1
    assert net.bob.transport.sent_commands() == [commands.ACK, commands.ACK]
    assert net.bob.gateway.stats.by_command[commands.IDENTITY].packets_in == 1


def test_replayed_bytes_are_not_dispatched_again(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    data = net.wire(alice_key)
    net.inject(net.bob, data)
    net.inject(net.bob, data)
    assert len(net.bob.handled) == 1
    assert net.bob.gateway.stats.dropped == {"replay": 1}
    assert net.bob.transport.sent_commands() == [commands.ACK, commands.ACK]


def test_replayed_ack_is_not_answered(net: Net, bob_key: RsaKey) -> None:
    ack = net.wire(bob_key, command=commands.ACK, owner_id=BOB, creator_id=BOB, remote_id=ALICE, payload=b"")
    net.inject(net.alice, ack)
    net.inject(net.alice, ack)
    assert net.alice.gateway.stats.dropped == {"late-answer": 1, "replay": 1}
    assert net.alice.transport.sent == []


def test_retry_after_a_lost_fail_is_still_answered_fail(net: Net) -> None:
    def refuse(packet: Packet) -> bytes:
        raise Refused("not allowed")

    net.handle(net.bob, commands.DATA, refuse)
    net.bob.transport.lose = 1  # bob's Fail never arrives; alice retries the same packet
    box = outcome(net.alice.gateway.send(commands.DATA, BOB, b"x", timeout=9, retries=2))
    net.flush()
    net.clock.advance(3)
    net.flush()
    assert box, "alice got no answer at all"
    assert delivery_failure(box).reason == "failed"


# -- packets the inbox drops -------------------------------------------------------------------


def test_packet_for_someone_else_is_dropped(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(alice_key, remote_id=CAROL))
    assert net.bob.handled == []
    assert net.bob.gateway.stats.dropped == {"not-for-us": 1}
    assert net.bob.transport.conn.garbage == []
    assert net.bob.transport.sent == []


def test_malformed_bytes_are_reported_as_garbage(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, b"\x00not a packet")
    assert net.bob.gateway.stats.dropped == {"malformed": 1}
    assert len(net.bob.transport.conn.garbage) == 1
    assert net.bob.handled == [] and net.bob.transport.sent == []


def test_packet_signed_by_another_key_is_dropped_as_bad_signature(net: Net, bob_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(bob_key))  # claims to be from alice, signed by bob's key
    assert net.bob.gateway.stats.dropped == {"bad-signature": 1}
    assert net.bob.transport.conn.garbage == ["Identity from http://127.0.0.1:8084/alice.xml: bad packet signature"]
    assert net.bob.handled == [] and net.bob.transport.sent == [] and net.bob.transport.bound == []


def test_unsigned_packet_is_dropped(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(alice_key, sign=False))
    assert sum(net.bob.gateway.stats.dropped.values()) == 1
    assert net.bob.handled == [] and len(net.bob.transport.conn.garbage) == 1


@pytest.mark.parametrize("offset", [-601.0, 601.0])
def test_packet_dated_beyond_the_skew_is_dropped(net: Net, alice_key: RsaKey, offset: float) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(alice_key, date=net.clock.seconds() + offset))
    assert net.bob.handled == [] and net.bob.transport.sent == []
    assert net.bob.gateway.stats.dropped == {"stale": 1}
    # checked before any fetch or RSA work; a wrong clock is not garbage, so the peer stays connected
    assert net.bob.cache.fetches == []
    assert net.bob.transport.conn.garbage == []


def test_packet_dated_within_the_skew_is_accepted(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(alice_key, date=net.clock.seconds() - 599))
    assert len(net.bob.handled) == 1


def test_unknown_creator_whose_fetch_fails_is_dropped(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.bob.cache.forget(ALICE)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=3, retries=0))
    net.flush()
    assert net.bob.cache.fetches == [ALICE]
    assert net.bob.gateway.stats.dropped == {"unknown-creator": 1}
    # naming creators nobody can fetch costs us HTTP requests: the connection is told
    assert net.bob.transport.conn.garbage == [
        f"identity of {ALICE} is not available: {ALICE} answered HTTP 404",
    ]
    assert net.bob.handled == [] and net.bob.transport.sent == []
    net.clock.advance(3)
    assert delivery_failure(box).reason == "timeout"


def test_unknown_creator_is_fetched_then_accepted(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.bob.cache.forget(ALICE)
    net.bob.cache.remote[ALICE] = net.alice.identity
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.flush()
    assert net.bob.cache.fetches == [ALICE]
    assert len(net.bob.handled) == 1 and isinstance(box[0], Packet)


# -- late answers ------------------------------------------------------------------------------


def test_ack_after_the_timeout_is_counted_as_late_answer(net: Net) -> None:
    later: defer.Deferred[bytes] = defer.Deferred()
    net.handle(net.bob, commands.DATA, lambda packet: later)
    box = outcome(net.alice.gateway.send(commands.DATA, BOB, b"x", timeout=3, retries=0))
    net.flush()
    net.clock.advance(3)
    assert delivery_failure(box).reason == "timeout"
    net.clock.advance(2)
    later.callback(b"")
    net.flush()
    assert net.alice.gateway.stats.dropped == {"late-answer": 1}
    assert net.alice.gateway.outgoing == {}


def test_unsolicited_fail_is_counted_as_late_answer(net: Net, bob_key: RsaKey) -> None:
    fail = net.wire(bob_key, command=commands.FAIL, owner_id=BOB, creator_id=BOB, remote_id=ALICE, payload=b"no")
    net.inject(net.alice, fail)
    assert net.alice.gateway.stats.dropped == {"late-answer": 1}
    assert net.alice.transport.sent == []


# -- stop --------------------------------------------------------------------------------------


def test_stop_cancels_packets_in_flight(net: Net) -> None:
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.alice.gateway.stop()
    error = delivery_failure(box)
    assert error.reason == "cancelled"
    assert "cancelled" in str(error)
    assert net.alice.gateway.outgoing == {}


def test_stopped_gateway_refuses_sends_and_ignores_the_inbox(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.bob.gateway.stop()
    assert delivery_failure(outcome(net.bob.gateway.send(commands.IDENTITY, ALICE))).reason == "cancelled"
    net.inject(net.bob, net.wire(alice_key))
    assert net.bob.handled == [] and net.bob.transport.sent == []
    assert net.bob.gateway.stats.total.packets_in == 0


def test_stop_while_the_creator_is_verified_drops_the_packet(alice_key: RsaKey, bob_key: RsaKey) -> None:
    from tests.userid.helpers import QueuedBlocking

    net = Net(alice_key, bob_key)
    held = QueuedBlocking()
    net.bob.gateway.run_blocking = held
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(alice_key))
    assert len(held.calls) == 1  # verification waits in the "thread pool"
    net.bob.gateway.stop()
    held.run_all()
    net.flush()
    assert net.bob.handled == [] and net.bob.transport.sent == []


# -- stats and reporting -----------------------------------------------------------------------


def test_stats_count_packets_and_bytes_per_command_and_peer(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY, lambda packet: b"pong")
    outcome(net.alice.gateway.send(commands.IDENTITY, BOB, b"p" * 100))
    net.flush()
    [(_t, _i, _c, ping_wire)] = net.alice.transport.sent
    [(_t, _i, _c, ack_wire)] = net.bob.transport.sent
    alice, bob = net.alice.gateway.stats, net.bob.gateway.stats

    assert alice.by_command[commands.IDENTITY].to_json() == {
        "packets_in": 0,
        "bytes_in": 0,
        "packets_out": 1,
        "bytes_out": len(ping_wire),
    }
    assert alice.by_command[commands.ACK].to_json() == {
        "packets_in": 1,
        "bytes_in": len(ack_wire),
        "packets_out": 0,
        "bytes_out": 0,
    }
    assert alice.by_peer[BOB].to_json() == {
        "packets_in": 1,
        "bytes_in": len(ack_wire),
        "packets_out": 1,
        "bytes_out": len(ping_wire),
    }
    assert bob.by_command[commands.IDENTITY].packets_in == 1
    assert bob.by_command[commands.IDENTITY].bytes_in == len(ping_wire)
    assert bob.by_command[commands.ACK].packets_out == 1
    assert bob.by_peer[ALICE].to_json() == {
        "packets_in": 1,
        "bytes_in": len(ping_wire),
        "packets_out": 1,
        "bytes_out": len(ack_wire),
    }
    assert alice.total.packets_in == alice.total.packets_out == 1
    report = alice.to_json()
    assert set(report) == {"in", "out", "total", "commands", "peers", "dropped"}
    assert report["peers"] == {BOB: alice.by_peer[BOB].to_json()}


def test_stats_count_every_attempt_out(net: Net) -> None:
    net.alice.transport.lose = 10
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    for _ in range(3):
        net.clock.advance(3)
    assert delivery_failure(box).reason == "timeout"
    sizes = {len(data) for _t, _i, _c, data in net.alice.transport.sent}
    assert len(sizes) == 1  # the same signed wire is re-sent
    flow = net.alice.gateway.stats.by_command[commands.IDENTITY]
    assert flow.packets_out == 3 and flow.bytes_out == 3 * sizes.pop()


def test_packets_json_shows_in_flight_then_recent(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    d = net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2)
    [flying] = net.alice.gateway.packets_json()
    assert flying["direction"] == "outgoing" and flying["in_flight"] is True
    assert flying["command"] == commands.IDENTITY
    assert flying["remote_id"] == BOB
    assert flying["state"] == "ACK_WAIT"
    assert flying["attempts"] == 1 and flying["timeout"] == 9 and flying["retries"] == 2
    assert flying["size"] == len(net.alice.transport.sent[0][3])
    net.clock.advance(1)
    net.flush()
    outcome(d)
    [done, ack_in] = net.alice.gateway.packets_json()
    assert done["packet_id"] == flying["packet_id"] and done["in_flight"] is False
    assert done["state"] == "DONE" and done["error"] is None and done["duration"] == 1.0
    assert (ack_in["direction"], ack_in["command"], ack_in["packet_id"]) == (
        "incoming",
        commands.ACK,
        done["packet_id"],
    )
    [ack, identity_in] = net.bob.gateway.packets_json()
    assert (ack["direction"], ack["command"], ack["state"]) == ("outgoing", commands.ACK, "DONE")
    assert (identity_in["direction"], identity_in["command"]) == ("incoming", commands.IDENTITY)


# -- routing -----------------------------------------------------------------------------------


def test_transmit_picks_the_first_contact_a_transport_can_reach(alice_key: RsaKey, bob_key: RsaKey) -> None:
    net = Net(alice_key, bob_key, bob_contacts=("udp://127.0.0.1:9999", BOB_TCP, "tcp://127.0.0.1:7003"))
    net.handle(net.bob, commands.IDENTITY)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.flush()
    assert isinstance(box[0], Packet)
    assert [(idurl, contact) for _t, idurl, contact, _d in net.alice.transport.sent] == [(BOB, BOB_TCP)]


def test_packet_addressed_to_a_secondary_source_is_accepted(alice_key: RsaKey, bob_key: RsaKey) -> None:
    net = Net(alice_key, bob_key, bob_sources=[BOB, BOB2])
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(alice_key, remote_id=BOB2))
    assert len(net.bob.handled) == 1


def test_ack_to_a_packet_sent_to_a_secondary_source_settles_it(alice_key: RsaKey, bob_key: RsaKey) -> None:
    net = Net(alice_key, bob_key, bob_sources=[BOB, BOB2])
    net.handle(net.bob, commands.IDENTITY)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB2, timeout=9, retries=2))
    net.flush()
    assert len(net.bob.handled) == 1
    assert net.alice.gateway.stats.dropped == {}
    assert box and isinstance(box[0], Packet)


# -- the creator's identity revision -----------------------------------------------------------


def test_our_packets_carry_our_identity_revision(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.flush()
    [(_t, _i, _c, data)] = net.alice.transport.sent
    assert packets.decode(data).creator_revision == net.alice.identity.revision == 1
    [(_t, _i, _c, answer)] = net.bob.transport.sent
    assert packets.decode(answer).creator_revision == net.bob.identity.revision


def test_newer_revision_in_a_verified_data_packet_replaces_the_cached_identity(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.DATA)
    moved = make_identity(alice_key, "alice", revision=5, sources=[ALICE], contacts=(ALICE_TCP, "tcp://10.0.0.1:7"))
    net.bob.cache.remote[ALICE] = moved
    net.inject(net.bob, net.wire(alice_key, command=commands.DATA, creator_revision=5))
    assert len(net.bob.handled) == 1  # handled at once, with the identity it was verified against
    assert net.bob.cache.claims == [(ALICE, 5)] and net.bob.cache.refreshes == [ALICE]
    assert net.bob.cache.get(ALICE) == moved


def test_a_revision_we_hold_or_an_older_one_refreshes_nothing(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.DATA)
    for number, revision in enumerate((1, 0)):
        net.inject(
            net.bob, net.wire(alice_key, command=commands.DATA, creator_revision=revision, packet_id=f"d{number}")
        )
    assert len(net.bob.handled) == 2
    assert net.bob.cache.claims == [] and net.bob.cache.refreshes == []


def test_identity_packets_carry_the_document_and_refresh_nothing(net: Net, alice_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.inject(net.bob, net.wire(alice_key, creator_revision=9))
    assert len(net.bob.handled) == 1 and net.bob.cache.claims == []


def test_an_unverified_packet_claiming_a_newer_revision_refreshes_nothing(net: Net, bob_key: RsaKey) -> None:
    net.handle(net.bob, commands.DATA)
    net.inject(net.bob, net.wire(bob_key, command=commands.DATA, creator_revision=7))  # not alice's signature
    assert net.bob.gateway.stats.dropped == {"bad-signature": 1}
    assert net.bob.cache.claims == [] and net.bob.cache.refreshes == []


def test_a_peer_lying_about_its_revision_causes_paced_fetches_only(net: Net, alice_key: RsaKey, tmp_path: Any) -> None:
    """The real cache behind bob's gateway: alice's servers serve revision 1, her packets claim 99."""
    from bitdust.userid.identity_cache import IdentityCache

    fetched: list[str] = []

    def http_get(url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        fetched.append(url)
        return defer.succeed((200, net.alice.identity.to_xml().encode()))

    cache = IdentityCache(tmp_path / "cache", http_get=http_get, clock=net.clock, run_blocking=run_blocking)
    cache.put(net.alice.identity)
    cache.put(net.bob.identity)
    net.bob.gateway.cache = cache
    net.handle(net.bob, commands.DATA)
    for second in range(120):
        for number in range(20):
            packet_id = f"lie-{second}-{number}"
            net.inject(net.bob, net.wire(alice_key, command=commands.DATA, creator_revision=99, packet_id=packet_id))
        net.clock.advance(1)
    assert len(net.bob.handled) == 2400  # every packet is still served
    assert 1 <= len(fetched) <= 8  # at 0, 1, 3, 7, 15, 31, 63 and 123 s at most, not 2400
    assert cache.get(ALICE).revision == 1
