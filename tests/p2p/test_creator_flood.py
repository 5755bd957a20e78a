"""Issue 11 point 7, mounted: packets naming unknown creators make the node fetch their IDURLs.

Before the fix every packet with a new unknown creator started an HTTP GET before any signature
check: 300 packets naming 300 creators on a server that never answers held 298 GETs open. Now the
gateway looks up a bounded few unknown creators per sender address, and the cache bounds fetches
per identity server and in total; honest peers on known servers keep working meanwhile.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.userid import fetch_limits
from tests.p2p.attack_helpers import FakeServers, Peer, Target, identity

ALICE = "http://id-a.net/alice.xml"
FLOOD = 300


@pytest.fixture(scope="module")
def mallory_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture
def servers(alice_key: RsaKey) -> FakeServers:
    servers = FakeServers()
    servers.default = "hang"  # every made-up IDURL: a server that accepts and never answers
    servers.serve(identity(alice_key, ALICE), ALICE)
    return servers


@pytest.fixture
def target(tmp_path: Path, bob_key: RsaKey, servers: FakeServers) -> Target:
    target = Target(tmp_path / "identitycache", bob_key, servers)
    target.cache.limits.known_servers = {"id-a.net"}
    return target


def _flood(target: Target, key: RsaKey, creators: list[str], peers: list[Peer]) -> None:
    for index, creator in enumerate(creators):
        target.inbox(target.wire(key, creator, packet_id=f"flood-{index}"), peers[index % len(peers)])


def _honest_ping_works(target: Target, alice_key: RsaKey, packet_id: str) -> None:
    honest = Peer("198.51.100.7")
    target.inbox(target.wire(alice_key, ALICE, packet_id=packet_id), honest)
    assert packet_id in [p.packet_id for p in target.accepted]
    assert honest.garbage == []


def test_one_address_naming_300_creators_holds_a_few_fetches(
    target: Target, servers: FakeServers, mallory_key: RsaKey, alice_key: RsaKey
) -> None:
    attacker = Peer("203.0.113.66")
    creators = [f"http://h{i}.evil.net/u{i:03d}.xml" for i in range(FLOOD)]
    _flood(target, mallory_key, creators, [attacker])
    assert len(servers.open) <= target.gateway.max_lookups_per_address == 4
    assert target.gateway.stats.dropped["busy"] == FLOOD - 4
    assert attacker.garbage == []  # busy is not the sender's fault ...
    _honest_ping_works(target, alice_key, "during-flood")
    target.clock.advance(10)  # ... the lookups that ran time out and count against it
    assert servers.open == []
    assert len(attacker.garbage) == len(set(servers.calls) - {ALICE})


def test_many_addresses_and_hosts_hold_at_most_the_total_bound(
    target: Target, servers: FakeServers, mallory_key: RsaKey, alice_key: RsaKey
) -> None:
    peers = [Peer(f"203.0.113.{i % 250}") for i in range(FLOOD)]
    creators = [f"http://h{i}.evil.net/u{i:03d}.xml" for i in range(FLOOD)]
    _flood(target, mallory_key, creators, peers)
    assert len(servers.open) == fetch_limits.MAX_OPEN_UNKNOWN_TOTAL
    assert target.cache.limits.stats.peak_open == fetch_limits.MAX_OPEN_UNKNOWN_TOTAL
    _honest_ping_works(target, alice_key, "during-wide-flood")
    target.clock.advance(10)
    assert servers.open == [] and target.cache.limits.open == 0 and target.cache.limits.waiting == 0


def test_one_unknown_server_gets_two_fetches_at_once(target: Target, servers: FakeServers, mallory_key: RsaKey) -> None:
    peers = [Peer(f"203.0.113.{i}") for i in range(40)]
    creators = [f"http://slow.evil.net/u{i:03d}.xml" for i in range(40)]
    _flood(target, mallory_key, creators, peers)
    assert len(servers.open) == fetch_limits.MAX_OPEN_UNKNOWN
    assert target.cache.limits.waiting == 32  # the rest wait (no socket) or are refused at once
    target.clock.advance(10)
    assert servers.open == [] and target.cache.limits.waiting == 0


def test_a_packet_owned_by_someone_else_is_refused_before_any_fetch(
    target: Target, servers: FakeServers, alice_key: RsaKey
) -> None:
    peer = Peer("203.0.113.9")
    wire = target.wire(alice_key, "http://new.evil.net/xyz.xml", owner_id=ALICE, packet_id="owned")
    target.inbox(wire, peer)
    assert servers.calls == [] and target.accepted == []
    assert peer.garbage and "claims to be owned by" in peer.garbage[0]


def test_data_may_carry_another_owner(target: Target, alice_key: RsaKey) -> None:
    """A supplier returns a customer's Data: owner is the customer, creator the supplier."""
    accepted = []
    target.gateway.register(commands.DATA, lambda packet, _source: accepted.append(packet) or b"")
    owner = "http://id-a.net/customer.xml"
    target.inbox(target.wire(alice_key, ALICE, command=commands.DATA, owner_id=owner, packet_id="d1"), Peer("x"))
    assert [(p.owner_id, p.creator_id) for p in accepted] == [(owner, ALICE)]
