"""Issue 11 point 1, mounted: an attacker's identity server claims alice's IDURL as a source of its document.

The attacker's document is served at ``http://evil.net/alice.xml``, lists that URL and alice's real
IDURL on her own server, and is signed by the attacker's key. One packet naming the attacker's URL
as its creator makes bob's node fetch it. Before the fix bob then tied alice's IDURL to the
attacker's key: the attacker's packets "from" alice were acknowledged, hers dropped as bad
signatures, and that survived a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bitdust.crypt.rsa_key import RsaKey
from tests.p2p.attack_helpers import FakeServers, Peer, Target, identity

ALICE = "http://id-a.net/alice.xml"
EVIL = "http://evil.net/alice.xml"


@pytest.fixture(scope="module")
def mallory_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture
def servers(alice_key: RsaKey) -> FakeServers:
    servers = FakeServers()
    servers.serve(identity(alice_key, ALICE), ALICE)
    return servers


@pytest.fixture
def target(tmp_path: Path, bob_key: RsaKey, servers: FakeServers) -> Target:
    return Target(tmp_path / "identitycache", bob_key, servers)


def _poison(target: Target, mallory_key: RsaKey, sources: list[str]) -> Peer:
    """Serve the attacker's document at EVIL and send one packet naming EVIL as its creator."""
    target.servers.serve(identity(mallory_key, *sources), EVIL)
    attacker = Peer("203.0.113.66")
    target.inbox(target.wire(mallory_key, EVIL), attacker)
    return attacker


@pytest.mark.parametrize("sources", [[EVIL, ALICE], [ALICE, EVIL]], ids=["evil-primary", "alice-primary"])
def test_a_claimed_source_never_binds_another_users_idurl(
    target: Target, mallory_key: RsaKey, alice_key: RsaKey, sources: list[str]
) -> None:
    attacker = _poison(target, mallory_key, sources)
    held = target.cache.get(ALICE)
    assert held is None or held.public_key == alice_key.public_openssh()

    # The attacker's packets "from" alice are refused ...
    target.inbox(target.wire(mallory_key, ALICE, packet_id="forged"), attacker)
    assert [p.packet_id for p in target.accepted if p.creator_id == ALICE] == []
    assert any("bad packet signature" in reason for reason in attacker.garbage)
    # ... and alice's own packets verify.
    alice = Peer("198.51.100.7")
    target.inbox(target.wire(alice_key, ALICE, packet_id="real"), alice)
    assert [p.packet_id for p in target.accepted if p.creator_id == ALICE] == ["real"]
    assert target.cache.get(ALICE).public_key == alice_key.public_openssh()
    assert alice.garbage == []


def test_the_attackers_own_name_names_only_the_attacker(target: Target, mallory_key: RsaKey) -> None:
    """With the attacker's server as primary its packets are accepted as EVIL, never as alice."""
    _poison(target, mallory_key, [EVIL, ALICE])
    assert [p.creator_id for p in target.accepted] == [EVIL]
    assert target.cache.get(EVIL).public_key == mallory_key.public_openssh()
    assert [source.url for source in target.cache.bound_sources(EVIL)] == [EVIL]


def test_a_document_whose_primary_does_not_confirm_it_is_refused(target: Target, mallory_key: RsaKey) -> None:
    """[ALICE, EVIL] served at EVIL: alice's server serves another key, so nothing is kept and nothing acked."""
    attacker = _poison(target, mallory_key, [ALICE, EVIL])
    assert target.accepted == []
    assert target.cache.get(EVIL) is None
    assert any("unconfirmed" in reason or "primary" in reason for reason in attacker.garbage)


def test_poisoning_does_not_survive_a_restart(
    target: Target, mallory_key: RsaKey, alice_key: RsaKey, servers: FakeServers
) -> None:
    attacker = _poison(target, mallory_key, [EVIL, ALICE])
    target.restart()
    held = target.cache.get(ALICE)
    assert held is None
    assert target.cache.get(EVIL).public_key == mallory_key.public_openssh()
    target.inbox(target.wire(mallory_key, ALICE, packet_id="forged-after-restart"), attacker)
    target.inbox(target.wire(alice_key, ALICE, packet_id="real-after-restart"), Peer("198.51.100.7"))
    assert [p.packet_id for p in target.accepted if p.creator_id == ALICE] == ["real-after-restart"]


def test_a_file_poisoned_before_the_fix_is_not_loaded(target: Target, mallory_key: RsaKey, alice_key: RsaKey) -> None:
    """What main's code wrote (the document, no record of bindings) is not trusted after an upgrade."""
    target.folder.mkdir(parents=True, exist_ok=True)
    poisoned = identity(mallory_key, ALICE, EVIL)
    (target.folder / f"{poisoned.global_id}.xml").write_text(poisoned.to_xml())
    target.restart()
    assert target.cache.get(ALICE) is None and target.cache.get(EVIL) is None
    target.inbox(target.wire(alice_key, ALICE, packet_id="real"), Peer("198.51.100.7"))
    assert [p.packet_id for p in target.accepted] == ["real"]


def test_a_claim_is_bound_once_its_own_server_serves_the_same_key(
    target: Target, alice_key: RsaKey, servers: FakeServers
) -> None:
    """Alice's honest second source: a claim until fetched there (refresh asks every source)."""
    second = "http://id-c.net/alice.xml"
    both = identity(alice_key, ALICE, second, revision=2)
    servers.serve(both, ALICE)
    target.inbox(target.wire(alice_key, ALICE), Peer("198.51.100.7"))
    assert target.cache.get(second) is None
    servers.serve(identity(alice_key, ALICE, second, revision=1), second)  # an older revision of the same key
    target.cache.refresh(ALICE)
    target.clock.advance(0)
    assert target.cache.get(second) == both
    # and the binding is kept across a restart
    target.restart()
    assert target.cache.get(second) == both


def test_a_packet_creator_that_is_a_secondary_source_confirms_the_primary(
    target: Target, alice_key: RsaKey, servers: FakeServers
) -> None:
    second = "http://id-c.net/alice.xml"
    both = identity(alice_key, ALICE, second, revision=3)
    servers.serve(both, ALICE, second)
    target.inbox(target.wire(alice_key, second), Peer("198.51.100.7"))
    assert [p.creator_id for p in target.accepted] == [second]
    assert {s.url for s in target.cache.bound_sources(second)} == {ALICE, second}
    assert servers.calls == [second, ALICE]
