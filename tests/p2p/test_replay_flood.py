"""Issue 11 point 2 and the no-handler item, mounted in-process against real gateways and real keys.

Alice and bob are the honest pair of ``test_gateway``'s harness (gateways on one ``task.Clock``, a
fake transport between them). Twenty throwaway identities, each with its own RSA key and known to
bob's cache (registration costs nothing), flood bob with signed packets while alice and bob keep
pinging each other. Bob's replay guard is scaled down (a few ids per creator, a few dozen in
total) so that a flood of a few hundred real signatures reaches its bounds the way 200,000 reach
the default ones; ``python -m bitdust.bench peer_flood`` gives the full-scale figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p import packet as packets
from bitdust.p2p.packet import Packet
from bitdust.p2p.replay import ReplayGuard
from bitdust.userid.identity import Identity
from tests.p2p.test_gateway import ALICE, BOB, Net, Node, delivery_failure, outcome
from tests.userid.helpers import make_identity

FLOODERS = 20
BURST = 20
"""Signed answers no handler decided on that one creator gets at once (``AnswerBudget``'s default)."""


@pytest.fixture(scope="module")
def flooder_keys() -> list[RsaKey]:
    return [RsaKey.generate(1024) for _ in range(FLOODERS)]


@pytest.fixture
def net(alice_key: RsaKey, bob_key: RsaKey, flooder_keys: list[RsaKey]) -> Net:
    net = Net(alice_key, bob_key)
    net.flooders = [
        (
            key,
            make_identity(
                key,
                f"flood{n}",
                sources=[f"http://127.0.0.1:8084/flood{n}.xml"],
                contacts=(f"tcp://127.0.0.1:{7100 + n}",),
            ),
        )
        for n, key in enumerate(flooder_keys)
    ]
    for _key, identity in net.flooders:
        net.bob.cache._keep(identity)
    net.handle(net.bob, commands.IDENTITY)
    net.handle(net.alice, commands.IDENTITY)
    return net


def flood_packet(net: Net, key: RsaKey, identity: Identity, packet_id: str, **fields: Any) -> bytes:
    values: dict[str, Any] = dict(
        command=commands.ACK,
        owner_id=identity.idurl.url,
        creator_id=identity.idurl.url,
        packet_id=packet_id,
        date=net.clock.seconds() + 59,  # near the future edge of the window
        remote_id=BOB,
    )
    values.update(fields)
    return packets.encode(packets.sign(Packet(**values), key))


def ping(net: Net, sender: Node, receiver: str) -> list[Any]:
    return outcome(sender.gateway.send(commands.IDENTITY, receiver, b"ping", timeout=9, retries=0))


def count_verifies(node: Node) -> list[Any]:
    """Record every blocking call (verify, sign) ``node``'s gateway makes."""
    calls: list[Any] = []
    inner = node.gateway.run_blocking

    def recording(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        calls.append(fn)
        return inner(fn, *args, **kwargs)

    node.gateway.run_blocking = recording
    return calls


def sent_to_flooders(node: Node) -> list[str]:
    return [packets.decode(data).command for _t, idurl, _c, data in node.transport.sent if "flood" in idurl]


def test_a_flood_of_future_dated_acks_does_not_lock_out_honest_peers(net: Net) -> None:
    guard = net.bob.gateway.replays = ReplayGuard(net.clock, 600, max_per_creator=5, max_total=40)
    pings: list[list[Any]] = []
    for round_n in range(15):
        for n, (key, identity) in enumerate(net.flooders):
            net.bob.gateway.inbox(flood_packet(net, key, identity, f"flood-{round_n}-{n}"), net.bob.transport.conn)
        pings += [ping(net, net.alice, BOB), ping(net, net.bob, ALICE)]
        net.flush()
        net.clock.advance(0.5)
    assert all(box and isinstance(box[0], Packet) and box[0].command == commands.ACK for box in pings), [
        box[0] if box else "no answer" for box in pings
    ]
    assert len(guard) <= 40
    # the flooders paid: each holds at most its own budget, the rest of what it sent is under its floor
    assert all(len(state.seen) <= 5 for state in guard._creators.values())


def test_replaying_a_captured_flood_costs_no_signature_check(net: Net) -> None:
    key, identity = net.flooders[0]
    captured = [flood_packet(net, key, identity, f"captured-{i}") for i in range(30)]
    for data in captured:
        net.inject(net.bob, data)
    verifies = count_verifies(net.bob)
    for data in captured * 3:
        net.inject(net.bob, data)
    assert verifies == []
    assert net.bob.gateway.stats.dropped["replay"] == 90
    box = ping(net, net.alice, BOB)
    net.flush()
    assert isinstance(box[0], Packet)


@pytest.mark.parametrize("ahead", [61.0, 599.0])
def test_a_packet_dated_past_the_short_future_edge_is_dropped_before_any_work(net: Net, ahead: float) -> None:
    key, identity = net.flooders[0]
    verifies = count_verifies(net.bob)
    net.inject(net.bob, flood_packet(net, key, identity, "too-far", date=net.clock.seconds() + ahead))
    assert net.bob.gateway.stats.dropped == {"stale": 1}
    assert verifies == [] and net.bob.cache.fetches == []
    assert net.bob.transport.conn.garbage == []


def test_a_packet_dated_within_the_future_edge_is_accepted(net: Net) -> None:
    # alice's clock is 60 s ahead of bob's
    data = net.wire(net.alice.key, date=net.clock.seconds() + 60, packet_id="clock-ahead")
    net.inject(net.bob, data)
    assert [packet.packet_id for packet in net.bob.handled] == ["clock-ahead"]


def test_packets_no_handler_takes_get_a_bounded_number_of_signed_fails(net: Net) -> None:
    key, identity = net.flooders[0]
    verifies = count_verifies(net.bob)
    for i in range(100):
        data = flood_packet(net, key, identity, f"nobody-{i}", command=commands.CONTACTS, date=net.clock.seconds())
        net.inject(net.bob, data)
    assert sent_to_flooders(net.bob) == [commands.FAIL] * BURST
    # what the flooder costs bob past its budget: one verify per packet, no signature of his own
    signs = [fn for fn in verifies if fn is not packets.verify]
    assert len(signs) == BURST
    assert net.bob.gateway.stats.dropped["answer-limited"] == 100 - BURST
    # honest peers are not touched: alice still gets her Fail and her pings through
    box = outcome(net.alice.gateway.send(commands.CONTACTS, BOB, timeout=9, retries=0))
    pinged = ping(net, net.alice, BOB)
    net.flush()
    assert delivery_failure(box).reason == "failed"
    assert isinstance(pinged[0], Packet)


def test_an_answer_held_back_by_the_budget_is_given_to_a_retry_later(net: Net) -> None:
    key, identity = net.flooders[0]
    budget = net.bob.gateway.answer_budget
    assert budget.burst == BURST
    wires = [
        flood_packet(net, key, identity, f"nobody-{i}", command=commands.CONTACTS, date=net.clock.seconds())
        for i in range(int(budget.burst) + 1)
    ]
    for data in wires:
        net.inject(net.bob, data)
    assert len(sent_to_flooders(net.bob)) == budget.burst
    net.inject(net.bob, wires[-1])  # retried at once: still over budget, dropped before verify
    assert len(sent_to_flooders(net.bob)) == budget.burst
    net.clock.advance(1 / budget.rate)
    net.inject(net.bob, wires[-1])  # retried once the budget refilled: it gets the Fail it was owed
    assert sent_to_flooders(net.bob) == [commands.FAIL] * (int(budget.burst) + 1)


def test_a_replayed_packet_is_answered_again_only_within_the_budget(net: Net) -> None:
    alice = net.alice
    captured = net.wire(alice.key, packet_id="captured-ping")
    net.inject(net.bob, captured)
    verifies = count_verifies(net.bob)
    for _ in range(100):
        net.inject(net.bob, captured)
    acks = [packets.decode(data).command for _t, _i, _c, data in net.bob.transport.sent]
    assert acks == [commands.ACK] * (1 + BURST)
    assert len(net.bob.handled) == 1
    # past the budget a replay is not even verified
    assert verifies.count(packets.verify) == BURST
