"""The DHT record rules under attack (issue 11 point 9): each test mounts one abuse in process.

Trust rule: every record's revision and every field that matters is covered by the signature
of the user it speaks for, checked against the key that user's IDURL is bound to.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.dht.errors import RecordError
from bitdust.dht.messages import MAX_VALUE
from bitdust.raid.eccmap import supplier_positions
from tests.dht.helpers import ALICE, BOB, Net
from tests.dht.record_builders import (
    NOW,
    compact,
    identity_document,
    identity_record,
    message_broker,
    nickname,
)

CAROL = "http://127.0.0.1:8084/carol.xml"
MALLORY = "http://127.0.0.1:8084/mallory.xml"


@pytest.fixture(scope="module")
def people() -> dict[str, RsaKey]:
    return {who: RsaKey.generate(1024) for who in (ALICE, BOB, CAROL, MALLORY)}


def validator_of(people: dict[str, RsaKey], clock: Any = lambda: NOW) -> records.RecordValidator:
    """A validator that knows each IDURL's real key, as a node's identity cache would."""

    def public_key(idurl: str) -> defer.Deferred[RsaKey]:
        if idurl not in people:
            return defer.fail(LookupError(f"no identity at {idurl}"))
        return defer.succeed(people[idurl].public_key())

    return records.RecordValidator(public_key, clock=clock, ecc_layouts=supplier_positions())


def check(validator: records.RecordValidator, key: str, record: dict[str, Any], record_type: str) -> dict[str, Any]:
    result: list[Any] = []
    validator.validate(key, records.canonical_json(record), record_type).addBoth(result.append)
    if hasattr(result[0], "raiseException"):
        result[0].raiseException()
    return result[0]


def rule_of(validator: records.RecordValidator, key: str, record: dict[str, Any], record_type: str) -> str | None:
    try:
        check(validator, key, record, record_type)
    except RecordError as exc:
        return exc.rule
    return None


def store(net: Net, node_index: int, key: str, record: dict[str, Any], record_type: str, ttl: int = 3600) -> Any:
    """set_value from one node: the outcome, or the RecordError the node refused it with locally."""
    result: list[Any] = []
    d = net.nodes[node_index].set_value(key, records.canonical_json(record), 0, record_type, ttl)
    d.addBoth(result.append)
    net.settle()
    if hasattr(result[0], "check") and result[0].check(RecordError):
        return result[0].value
    if hasattr(result[0], "raiseException"):
        result[0].raiseException()
    return result[0]


def read(net: Net, node_index: int, key: str, record_type: str) -> dict[str, Any] | None:
    found = net.wait(net.nodes[node_index].get_value(key, 0, record_type))
    return found.value.record if found.value is not None else None


# -- identity records --------------------------------------------------------------------------


def test_an_identity_record_made_from_our_own_to_xml_is_accepted(people) -> None:
    document = identity_document(people[ALICE], [ALICE], revision=3)
    record = identity_record(ALICE, document.to_xml(), 3)
    assert "\n" in record["xml"]  # indented, as identity servers serve it
    assert check(validator_of(people), f"identity:{ALICE}", record, "identity") == record


def test_an_old_document_under_the_highest_record_revision_is_refused(people) -> None:
    old = compact(identity_document(people[ALICE], [ALICE], revision=1).to_xml())
    record = identity_record(ALICE, old, 2**63 - 1)
    assert rule_of(validator_of(people), f"identity:{ALICE}", record, "identity") == "revision"


def test_a_replayed_old_document_cannot_block_the_owners_update(people) -> None:
    net = Net(validator=validator_of(people)).build(8)
    old = compact(identity_document(people[ALICE], [ALICE], revision=1).to_xml())
    store(net, 5, f"identity:{ALICE}", identity_record(ALICE, old, 2**63 - 1), "identity")
    update = compact(identity_document(people[ALICE], [ALICE], revision=2).to_xml())
    outcome = store(net, 1, f"identity:{ALICE}", identity_record(ALICE, update, 2), "identity")
    assert not isinstance(outcome, RecordError) and outcome.success and not outcome.refused
    assert read(net, 7, f"identity:{ALICE}", "identity")["revision"] == 2


def test_a_document_signed_by_another_key_cannot_speak_for_an_idurl(people) -> None:
    forged = compact(identity_document(people[MALLORY], [ALICE], revision=99).to_xml())
    record = identity_record(ALICE, forged, 99)
    assert rule_of(validator_of(people), f"identity:{ALICE}", record, "identity") == "signature"


def test_an_identity_record_must_be_listed_by_its_own_document(people) -> None:
    # Bob's genuine document stored as Alice's: only "the document lists the record's IDURL" catches
    # it as such (without that check it would fail later, on Alice's key, as a signature problem).
    bobs = identity_document(people[BOB], [BOB], revision=1).to_xml()
    record = identity_record(ALICE, bobs, 1)
    assert rule_of(validator_of(people), f"identity:{ALICE}", record, "identity") == "content"


# -- message broker records ----------------------------------------------------------------------


def test_a_broker_alone_cannot_claim_a_slot_of_someone_elses_group(people) -> None:
    key = f"message_broker:{ALICE}:0"
    unsigned = {
        "type": "message_broker",
        "customer_idurl": ALICE,
        "broker_idurl": MALLORY,
        "position": 0,
        "revision": 1,
        "timestamp": NOW,
    }
    claimed = records.sign_record(key, unsigned, people[MALLORY])  # all the old rules asked for
    assert rule_of(validator_of(people), key, claimed, "message_broker") == "signature"
    cosigned = message_broker(people[MALLORY], people[MALLORY], ALICE, MALLORY)
    assert rule_of(validator_of(people), key, cosigned, "message_broker") == "signature"


def test_a_broker_slot_needs_the_group_owner_and_the_broker(people) -> None:
    key = f"message_broker:{ALICE}:0"
    validator = validator_of(people)
    both = message_broker(people[ALICE], people[BOB], ALICE, BOB)
    assert check(validator, key, both, "message_broker") == both
    assert rule_of(validator, key, message_broker(people[ALICE], None, ALICE, BOB), "message_broker") == "signature"
    assert rule_of(validator, key, message_broker(people[ALICE], people[CAROL], ALICE, BOB), "message_broker") == (
        "signature"
    )
    tampered = dict(both, revision=2**63 - 1)
    assert rule_of(validator, key, tampered, "message_broker") == "signature"


def test_the_group_owner_replaces_a_dead_broker(people) -> None:
    net = Net(validator=validator_of(people)).build(8)
    key = f"message_broker:{ALICE}:0"
    first = store(net, 2, key, message_broker(people[ALICE], people[BOB], ALICE, BOB, revision=1), "message_broker")
    assert not isinstance(first, RecordError) and first.success
    second = store(
        net, 3, key, message_broker(people[ALICE], people[CAROL], ALICE, CAROL, revision=2), "message_broker"
    )
    assert not isinstance(second, RecordError) and second.success and not second.refused
    assert read(net, 6, key, "message_broker")["broker_idurl"] == CAROL


# -- nickname records --------------------------------------------------------------------------


def squats(people: dict[str, RsaKey], name: str, position: int, timestamp: int) -> list[dict[str, Any]]:
    """Every shape of ``name:position`` one key can sign: the old one and the new one with any claims."""
    key = people[MALLORY]
    old_shape = records.sign_record(
        f"{name}:{position}",
        {"type": "nickname", "nickname": name, "idurl": MALLORY, "position": position},
        key,
    )
    own = []
    for earlier in range(position):
        signed = nickname(key, MALLORY, name, earlier, timestamp=timestamp)
        own.append({"idurl": MALLORY, "timestamp": timestamp, "signature": signed["signature"]})
    return [
        old_shape,
        nickname(key, MALLORY, name, position, timestamp=timestamp),
        nickname(key, MALLORY, name, position, timestamp=timestamp, taken=own),
    ]


def test_one_key_cannot_hold_many_positions_of_a_nickname(people) -> None:
    net = Net(validator=validator_of(people, clock=lambda: net.clock.now)).build(10)
    for position in range(records.NICKNAME_POSITIONS):
        for record in squats(people, "node-1", position, int(net.clock.now)):
            store(net, 4, f"node-1:{position}", record, "nickname", ttl=30 * 24 * 3600)
    held = [p for p in range(records.NICKNAME_POSITIONS) if read(net, 8, f"node-1:{p}", "nickname") is not None]
    assert held == [0]
    # the real node-1 still gets a position, and others still find each other, while this goes on
    taken = [records.nickname_claim(read(net, 8, "node-1:0", "nickname"))]
    alice = nickname(people[ALICE], ALICE, "node-1", 1, timestamp=int(net.clock.now), taken=taken)
    assert store(net, 2, "node-1:1", alice, "nickname").success
    assert read(net, 9, "node-1:1", "nickname")["idurl"] == ALICE


def test_a_squatted_position_is_free_again_after_the_signed_lifetime(people) -> None:
    net = Net(validator=validator_of(people, clock=lambda: net.clock.now)).build(8)
    for record in squats(people, "bob", 0, int(net.clock.now)):
        store(net, 3, "bob:0", record, "nickname", ttl=30 * 24 * 3600)
    assert read(net, 5, "bob:0", "nickname")["idurl"] == MALLORY
    net.clock.now += records.NICKNAME_LIFETIME + 1  # the squatter stops signing
    assert read(net, 5, "bob:0", "nickname") is None
    assert all(node.store.get(0, "bob:0", net.clock.now) is None for node in net.nodes)  # nobody keeps it
    bob = nickname(people[BOB], BOB, "bob", 0, timestamp=int(net.clock.now))
    outcome = store(net, 1, "bob:0", bob, "nickname")
    assert not isinstance(outcome, RecordError) and outcome.success and not outcome.refused
    assert read(net, 6, "bob:0", "nickname")["idurl"] == BOB


def test_nickname_records_outside_their_signed_lifetime_are_refused(people) -> None:
    validator = validator_of(people)
    expired = nickname(people[ALICE], ALICE, timestamp=NOW - records.NICKNAME_LIFETIME)
    future = nickname(people[ALICE], ALICE, timestamp=NOW + 2 * records.CLOCK_SKEW)
    assert rule_of(validator, "alice:0", expired, "nickname") == "lifetime"
    assert rule_of(validator, "alice:0", future, "nickname") == "lifetime"
    assert rule_of(validator, "alice:0", nickname(people[ALICE], ALICE, timestamp=NOW - 60), "nickname") is None


def test_a_later_position_needs_the_signed_claims_of_other_users(people) -> None:
    validator = validator_of(people)
    alices = nickname(people[ALICE], ALICE, "alice", 0)
    bobs = nickname(people[BOB], BOB, "alice", 1, taken=[records.nickname_claim(alices)])
    carols = nickname(
        people[CAROL], CAROL, "alice", 2, taken=[records.nickname_claim(alices), records.nickname_claim(bobs)]
    )
    assert check(validator, "alice:1", bobs, "nickname") == bobs
    assert check(validator, "alice:2", carols, "nickname") == carols
    cases = {
        "no claims": (nickname(people[BOB], BOB, "alice", 1), "content"),
        "the same holder twice": (
            nickname(people[CAROL], CAROL, "alice", 2, taken=[records.nickname_claim(alices)] * 2),
            "content",
        ),
        "a forged claim": (
            nickname(
                people[BOB], BOB, "alice", 1, taken=[dict(records.nickname_claim(alices), signature=bobs["signature"])]
            ),
            "signature",
        ),
        "a claim of another nickname": (
            nickname(people[BOB], BOB, "alice", 1, taken=[records.nickname_claim(nickname(people[ALICE], ALICE, "x"))]),
            "signature",
        ),
        "a claim long expired": (
            nickname(
                people[BOB],
                BOB,
                "alice",
                1,
                taken=[records.nickname_claim(nickname(people[ALICE], ALICE, timestamp=NOW - 4 * 24 * 3600))],
            ),
            "lifetime",
        ),
    }
    for what, (record, rule) in cases.items():
        assert rule_of(validator, f"alice:{record['position']}", record, "nickname") == rule, what


def test_the_last_nickname_position_fits_in_a_value_with_4096_bit_signatures() -> None:
    signature = "A" * 684  # base64 of a 4096-bit RSA signature
    claims = [
        {"idurl": f"http://identity-server.example.org:8084/user{p}.xml", "timestamp": NOW, "signature": signature}
        for p in range(records.NICKNAME_POSITIONS - 1)
    ]
    record = {
        "type": "nickname",
        "nickname": "n" * 64,
        "idurl": "http://identity-server.example.org:8084/someone.xml",
        "position": records.NICKNAME_POSITIONS - 1,
        "timestamp": NOW,
        "taken": claims,
        "signature": signature,
    }
    assert len(records.encode_record(record)) <= MAX_VALUE


def test_an_honest_publisher_takes_the_first_free_position_with_the_claims(people) -> None:
    from bitdust.dht.nickname import publish_nickname

    net = Net(validator=validator_of(people, clock=lambda: net.clock.now)).build(8)

    def signer(who: str) -> Any:
        return lambda key, record: defer.succeed(records.sign_record(key, record, people[who]))

    def publish(node_index: int, who: str) -> dict[str, Any]:
        return net.wait(publish_nickname(net.nodes[node_index], "alice", who, signer(who)))

    assert publish(1, ALICE)["position"] == 0
    assert publish(2, BOB)["position"] == 1
    assert publish(3, CAROL)["position"] == 2
    assert publish(4, ALICE)["position"] == 0  # a refresh keeps our own position
    assert read(net, 7, "alice:2", "nickname")["taken"][1]["idurl"] == BOB
    net.clock.now += records.NICKNAME_LIFETIME // 3
    refreshed_at = int(net.clock.now)
    assert publish(5, BOB)["position"] == 1  # re-signed in time, with Alice's claim
    assert read(net, 6, "alice:1", "nickname")["timestamp"] >= refreshed_at


# -- suppliers records ---------------------------------------------------------------------------


def test_a_suppliers_record_is_signed_by_the_customer_over_revision_and_fields(people) -> None:
    key = f"suppliers:{ALICE}"
    unsigned = {
        "type": "suppliers",
        "customer_idurl": ALICE,
        "publisher_idurl": ALICE,
        "ecc_map": "ecc/2x2",
        "suppliers": [BOB, CAROL],
        "revision": 4,
        "timestamp": NOW,
    }
    validator = validator_of(people)
    signed = records.sign_record(key, unsigned, people[ALICE])
    assert check(validator, key, signed, "suppliers") == signed
    for change in ({"revision": 2**63 - 1}, {"suppliers": [MALLORY, CAROL]}, {"timestamp": NOW + 1}):
        assert rule_of(validator, key, dict(signed, **change), "suppliers") == "signature", change
    by_a_supplier = records.sign_record(key, dict(unsigned, suppliers=[BOB, MALLORY]), people[BOB])
    assert rule_of(validator, key, by_a_supplier, "suppliers") == "signature"
    as_publisher = records.sign_record(key, dict(unsigned, publisher_idurl=BOB), people[BOB])
    assert rule_of(validator, key, as_publisher, "suppliers") == "content"
