"""service_p2p_hookups' Identity handler over a real gateway and cache: what is answered Ack and what Fail.

The mutation audit of issue 11 found that removing the check "the document is the sender's" or
"the document has the key we know for the sender" broke no test: the cache refused the document
anyway, but the node answered Ack. These tests pin the Fail, with its reason.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.services.service_p2p_hookups import P2PHookupsService
from tests.p2p.attack_helpers import FakeServers, Peer, Target, identity, run_inline

ALICE = "http://id-a.net/alice.xml"
ALICE_NEW = "http://id-n.net/alice.xml"
CAROL = "http://id-a.net/carol.xml"


@pytest.fixture(scope="module")
def other_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture
def servers(alice_key: RsaKey) -> FakeServers:
    servers = FakeServers()
    servers.serve(identity(alice_key, ALICE), ALICE)
    return servers


@pytest.fixture
def target(tmp_path: Path, bob_key: RsaKey, servers: FakeServers) -> Target:
    target = Target(tmp_path / "identitycache", bob_key, servers)
    service = P2PHookupsService(SimpleNamespace(identity_cache=target.cache, run_blocking=run_inline))
    target.gateway.register(commands.IDENTITY, service.on_identity)
    return target


def _ping(target: Target, key: RsaKey, document_xml: str, packet_id: str) -> tuple[str, str]:
    """An Identity packet from ALICE signed by ``key``; returns our answer (command, payload)."""
    wire = target.wire(key, ALICE, command=commands.IDENTITY, payload=document_xml.encode(), packet_id=packet_id)
    target.inbox(wire, Peer("198.51.100.7"))
    answers = [p for p in target.answers if p.packet_id == packet_id]
    assert len(answers) == 1, answers
    return answers[0].command, answers[0].payload.decode()


def test_the_senders_current_document_is_acked(target: Target, alice_key: RsaKey) -> None:
    newer = identity(alice_key, ALICE, revision=2, contacts=("tcp://10.0.0.2:7001",))
    assert _ping(target, alice_key, newer.to_xml(), "id-1") == (commands.ACK, "")
    assert target.cache.get(ALICE) == newer


def test_a_document_that_is_not_the_senders_is_answered_fail(
    target: Target, alice_key: RsaKey, other_key: RsaKey
) -> None:
    carol = identity(other_key, CAROL, revision=5)
    command, reason = _ping(target, alice_key, carol.to_xml(), "id-2")
    assert (command, reason) == (commands.FAIL, "the identity in the packet is not the sender's")
    assert target.cache.get(CAROL) is None


def test_a_document_with_another_key_for_the_sender_is_answered_fail(
    target: Target, alice_key: RsaKey, other_key: RsaKey
) -> None:
    takeover = identity(other_key, ALICE, revision=99)
    command, reason = _ping(target, alice_key, takeover.to_xml(), "id-3")
    assert (command, reason) == (commands.FAIL, "the identity in the packet has another key than the one we know")
    assert target.cache.get(ALICE).public_key == alice_key.public_openssh()


def test_a_new_primary_its_server_does_not_confirm_is_answered_fail(target: Target, alice_key: RsaKey) -> None:
    moved = identity(alice_key, ALICE_NEW, ALICE, revision=2)
    command, reason = _ping(target, alice_key, moved.to_xml(), "id-4")
    assert command == commands.FAIL and reason.startswith("identity refused (unconfirmed)")
    assert target.cache.get(ALICE).revision == 1
    assert target.cache.get(ALICE_NEW) is None


def test_a_new_primary_its_server_confirms_is_acked(target: Target, alice_key: RsaKey, servers: FakeServers) -> None:
    moved = identity(alice_key, ALICE_NEW, ALICE, revision=2)
    servers.serve(moved, ALICE_NEW)
    assert _ping(target, alice_key, moved.to_xml(), "id-5") == (commands.ACK, "")
    assert target.cache.get(ALICE_NEW) == moved == target.cache.get(ALICE)


def test_an_older_document_is_answered_fail(target: Target, alice_key: RsaKey) -> None:
    assert _ping(target, alice_key, identity(alice_key, ALICE, revision=3).to_xml(), "id-6")[0] == commands.ACK
    command, reason = _ping(target, alice_key, identity(alice_key, ALICE, revision=2).to_xml(), "id-7")
    assert command == commands.FAIL and reason.startswith("identity refused (stale)")
