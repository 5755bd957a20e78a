"""An Ack or Fail settles our packet only when it comes from a source bound to the receiver's key.

Alice's document lists two sources: her own name on id-a.net and ``alice`` on id-c.net, a name
she never registered there (or lost). Mallory holds that name on id-c.net under his own key. The
id-c.net source is only a claim of alice's document, and it is bound to mallory. Before the fix
an answer to a packet we sent alice was matched against every source her document lists, so
mallory's Ack "from" the id-c.net name settled our packet to alice as delivered.

The first tests run on the real identity cache (its binding rules, fake identity servers); the
last ones on ``test_gateway``'s two-gateway harness, whose ``FakeCache`` models binding too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from twisted.python.failure import Failure

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p.packet import Packet
from tests.p2p.attack_helpers import FakeServers, Peer, Target, identity
from tests.p2p.test_gateway import BOB, BOB_TCP, Net, outcome

ALICE = "http://id-a.net/alice.xml"
ALICE_SECOND = "http://id-b.net:8084/alice.xml"
CLAIMED = "http://id-c.net/alice.xml"


@pytest.fixture(scope="module")
def mallory_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture
def servers(alice_key: RsaKey, mallory_key: RsaKey) -> FakeServers:
    servers = FakeServers()
    alice = identity(alice_key, ALICE, ALICE_SECOND, CLAIMED)
    servers.serve(alice, ALICE, ALICE_SECOND)  # id-c.net does not serve her document ...
    servers.serve(identity(mallory_key, CLAIMED), CLAIMED)  # ... it serves mallory's under that name
    return servers


@pytest.fixture
def target(tmp_path: Path, bob_key: RsaKey, servers: FakeServers) -> Target:
    return Target(tmp_path / "identitycache", bob_key, servers)


def send(target: Target, remote_id: str) -> tuple[list[Any], Packet]:
    """Bob sends a Message to ``remote_id``; returns the outcome box and the packet as sent."""
    box = outcome(target.gateway.send(commands.MESSAGE, remote_id, b"hi", timeout=30, retries=0))
    target.clock.advance(0)
    [sent] = [p for p in target.answers if p.command == commands.MESSAGE]
    return box, sent


def answer(target: Target, key: RsaKey, creator: str, to: Packet, command: str = commands.ACK) -> bytes:
    return target.wire(key, creator, command=command, packet_id=to.packet_id, payload=b"")


def test_an_ack_from_a_claimed_source_bound_to_another_key_does_not_settle(
    target: Target, mallory_key: RsaKey, alice_key: RsaKey
) -> None:
    box, sent = send(target, ALICE)
    assert sent.remote_id == ALICE
    assert [s.url for s in target.cache.bound_sources(ALICE)] == [ALICE]  # fetched from ALICE only

    mallory = Peer("203.0.113.66")
    target.inbox(answer(target, mallory_key, CLAIMED, sent), mallory)
    # The Ack verified (CLAIMED is mallory's name) but it is not alice's answer.
    assert target.cache.get(CLAIMED).public_key == mallory_key.public_openssh()
    assert box == []
    assert target.gateway.stats.dropped.get("late-answer") == 1
    assert len(target.gateway.outgoing) == 1

    # Alice's own Ack still settles the packet.
    target.inbox(answer(target, alice_key, ALICE, sent), Peer("198.51.100.7"))
    assert box and isinstance(box[0], Packet) and box[0].creator_id == ALICE
    assert target.gateway.outgoing == {}


def test_a_fail_from_a_claimed_source_does_not_fail_the_packet(target: Target, mallory_key: RsaKey) -> None:
    box, sent = send(target, ALICE)
    target.inbox(answer(target, mallory_key, CLAIMED, sent, commands.FAIL), Peer("203.0.113.66"))
    assert box == [] and len(target.gateway.outgoing) == 1


def test_an_ack_from_another_bound_source_of_the_receiver_settles(target: Target, alice_key: RsaKey) -> None:
    """Sent to her second source (fetched from there, so bound), answered under her primary: delivered."""
    box, sent = send(target, ALICE_SECOND)
    assert sent.remote_id == ALICE_SECOND
    assert {s.url for s in target.cache.bound_sources(ALICE_SECOND)} == {ALICE, ALICE_SECOND}
    target.inbox(answer(target, alice_key, ALICE, sent), Peer("198.51.100.7"))
    assert box and isinstance(box[0], Packet) and box[0].creator_id == ALICE
    assert target.gateway.outgoing == {}


def test_an_ack_signed_by_the_receivers_key_under_an_unbound_source_does_not_settle(
    target: Target, alice_key: RsaKey
) -> None:
    """Alice's key, created under the id-c.net name: that name is not hers here, so it is not her answer."""
    box, sent = send(target, ALICE_SECOND)
    peer = Peer("198.51.100.7")
    target.inbox(answer(target, alice_key, CLAIMED, sent), peer)
    assert box == [] and len(target.gateway.outgoing) == 1
    assert CLAIMED not in {s.url for s in target.cache.bound_sources(ALICE)}


def test_an_ack_under_the_idurl_she_rotated_to_settles_a_packet_sent_to_her_old_one(
    target: Target, servers: FakeServers, alice_key: RsaKey
) -> None:
    """Rotation keeps working: her new IDURL is bound to the same key, the old one is its alias."""
    box, sent = send(target, ALICE)
    moved = "http://id-d.net/alice.xml"
    servers.serve(identity(alice_key, moved, revision=2), moved)
    target.inbox(answer(target, alice_key, moved, sent), Peer("198.51.100.7"))
    assert target.cache.resolve(ALICE).url == moved
    assert box and isinstance(box[0], Packet) and box[0].creator_id == moved


# -- on test_gateway's harness: the FakeCache binds, and get() answers only bound sources ------

CLAIMED_BOB = "http://127.0.0.1:8086/bob.xml"
SECOND_BOB = "http://127.0.0.1:8085/bob.xml"


@pytest.fixture
def net(alice_key: RsaKey, bob_key: RsaKey, mallory_key: RsaKey) -> Net:
    net = Net(alice_key, bob_key, bob_sources=[BOB, SECOND_BOB, CLAIMED_BOB])
    # alice holds bob's document with the 8086 name unbound; mallory holds that name
    net.alice.cache.known.clear()
    net.alice.cache.hold(net.alice.identity, bound=[net.alice.idurl])
    net.alice.cache.hold(net.bob.identity, bound=[BOB, SECOND_BOB])
    net.alice.cache.hold(identity(mallory_key, CLAIMED_BOB, contacts=("tcp://127.0.0.1:7009",)), bound=[CLAIMED_BOB])
    return net


def test_harness_an_ack_from_a_claim_does_not_settle_but_bobs_does(
    net: Net, mallory_key: RsaKey, bob_key: RsaKey
) -> None:
    net.bob.transport.fail = True  # bob's own answer never comes back
    box = outcome(net.alice.gateway.send(commands.IDENTITY, SECOND_BOB, timeout=9, retries=0))
    net.flush()
    [(_t, _i, contact, _d)] = net.alice.transport.sent
    assert contact == BOB_TCP
    packet_id = next(iter(net.alice.gateway.outgoing))[0]
    forged = net.wire(
        mallory_key,
        command=commands.ACK,
        owner_id=CLAIMED_BOB,
        creator_id=CLAIMED_BOB,
        packet_id=packet_id,
        remote_id=net.alice.idurl,
        payload=b"",
    )
    net.inject(net.alice, forged)
    assert box == [] and net.alice.gateway.stats.dropped.get("late-answer") == 1

    honest = net.wire(
        bob_key,
        command=commands.ACK,
        owner_id=BOB,
        creator_id=BOB,
        packet_id=packet_id,
        remote_id=net.alice.idurl,
        payload=b"",
    )
    net.inject(net.alice, honest)
    assert box and isinstance(box[0], Packet) and box[0].creator_id == BOB


def test_harness_fake_cache_answers_no_claim(net: Net) -> None:
    """What the check rests on: a lookup by a claimed source finds nothing (and is fetched instead)."""
    assert net.alice.cache.get(CLAIMED_BOB).public_key != net.bob.identity.public_key
    assert net.alice.cache.get(SECOND_BOB) is net.bob.identity
    net.alice.cache.known.pop(CLAIMED_BOB)
    assert net.alice.cache.get(CLAIMED_BOB) is None
    box = outcome(net.alice.cache.fetch(CLAIMED_BOB))
    assert isinstance(box[0], Failure)
