"""dht_value_set under the record rules: a good identity record from to_xml() is stored, an abusive one
is a 400 naming the rule and changes nothing, and a nickname lives no longer than its signed lifetime."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.dht.errors import RecordError
from bitdust.interface.api import dht
from bitdust.interface.error_statuses import status_of
from bitdust.raid.eccmap import supplier_positions
from tests.dht.helpers import ALICE, Net
from tests.dht.record_builders import compact, identity_document, identity_record, nickname
from tests.interface.test_api_dht_strict import engine_of


@pytest.fixture(scope="module")
def alice_key() -> RsaKey:
    return RsaKey.generate(1024)


def network(alice_key: RsaKey) -> Net:
    def public_key(idurl: str) -> defer.Deferred[RsaKey]:
        if idurl != ALICE:
            return defer.fail(LookupError(f"no identity at {idurl}"))
        return defer.succeed(alice_key.public_key())

    net: Net = Net(
        validator=records.RecordValidator(public_key, clock=lambda: net.clock.now, ecc_layouts=supplier_positions())
    )
    return net.build(6)


def value_set(net: Net, **kwargs: Any) -> Any:
    return net.wait(defer.maybeDeferred(dht.dht_value_set, engine_of(net.nodes[2]), **kwargs))


def test_an_identity_record_from_to_xml_is_stored_through_the_api(alice_key: RsaKey) -> None:
    net = network(alice_key)
    document = identity_document(alice_key, [ALICE], revision=5)
    value = {"idurl": ALICE, "xml": document.to_xml(), "revision": 5}
    answer = value_set(net, key=f"identity:{ALICE}", value=value, record_type="identity")
    assert answer["write"] == "success" and answer["stored_on"] > 0


def test_an_old_document_under_a_huge_revision_is_a_400_and_stores_nothing(alice_key: RsaKey) -> None:
    net = network(alice_key)
    old = compact(identity_document(alice_key, [ALICE], revision=1).to_xml())
    record = identity_record(ALICE, old, 2**63 - 1)
    with pytest.raises(RecordError) as caught:
        value_set(net, key=f"identity:{ALICE}", value=record, record_type="identity")
    assert status_of(caught.value) == 400 and "rule 'revision'" in caught.value.message
    assert all(node.store.count(0) == 0 for node in net.nodes)


def test_a_nickname_set_for_30_days_is_kept_only_for_its_signed_lifetime(alice_key: RsaKey) -> None:
    net = network(alice_key)
    record = nickname(alice_key, ALICE, "alice", 0, timestamp=int(net.clock.now))
    answer = value_set(net, key="alice:0", value=record, record_type="nickname", expire=30 * 24 * 3600)
    assert answer["write"] == "success"
    kept = [node.store.get(0, "alice:0", net.clock.now) for node in net.nodes]
    lifetimes = [item.expires_at - net.clock.now for item in kept if item is not None]
    assert lifetimes and max(lifetimes) <= records.NICKNAME_LIFETIME
