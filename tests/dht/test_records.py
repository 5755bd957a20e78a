from __future__ import annotations

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.dht.errors import RecordError
from bitdust.main.errors import InvalidInput
from tests.dht.helpers import ALICE, BOB
from tests.dht.record_builders import NOW, message_broker


def check(validator: records.RecordValidator, key: str, record: dict, record_type: str) -> dict:
    result: list = []
    validator.validate(key, records.canonical_json(record), record_type).addBoth(result.append)
    if isinstance(result[0], Exception) or hasattr(result[0], "raiseException"):
        result[0].raiseException()
    return result[0]


def nickname(keys: dict[str, RsaKey], signer: str = ALICE, **changes) -> dict:
    record = {"type": "nickname", "nickname": "alice", "idurl": ALICE, "position": 0, "timestamp": NOW, "taken": []}
    record.update(changes)
    return records.sign_record(f"{record['nickname']}:{record['position']}", record, keys[signer])


def test_a_signed_nickname_record_is_valid(validator, keys) -> None:
    record = nickname(keys)
    assert check(validator, "alice:0", record, "nickname") == record


@pytest.mark.parametrize(
    ("key", "make", "rule"),
    [
        ("alice:1", lambda keys: nickname(keys), "key"),
        ("alice:0", lambda keys: nickname(keys, signer=BOB), "signature"),
        ("alice:0", lambda keys: dict(nickname(keys), position=1), "key"),
        ("alice:0", lambda keys: {k: v for k, v in nickname(keys).items() if k != "signature"}, "signature"),
        ("alice:0", lambda keys: dict(nickname(keys), extra=1), "fields"),
        ("alice:0", lambda keys: {k: v for k, v in nickname(keys).items() if k != "idurl"}, "fields"),
        ("alice:0", lambda keys: dict(nickname(keys), idurl="not an idurl"), "fields"),
        ("alice:0", lambda keys: dict(nickname(keys), type="relation"), "type"),
        ("al ice:0", lambda keys: nickname(keys, nickname="al ice"), "fields"),
    ],
)
def test_broken_nickname_records_name_the_rule(validator, keys, key, make, rule) -> None:
    with pytest.raises(RecordError) as caught:
        check(validator, key, make(keys), "nickname")
    assert caught.value.rule == rule
    assert f"rule {rule!r}" in caught.value.message


def test_a_signature_is_bound_to_its_key(validator, keys) -> None:
    record = records.sign_record("alice:3", {k: v for k, v in nickname(keys).items() if k != "signature"}, keys[ALICE])
    with pytest.raises(RecordError, match="'signature'"):
        check(validator, "alice:0", record, "nickname")


def test_an_unknown_signer_identity_breaks_the_signature_rule(validator, keys) -> None:
    record = records.sign_record(
        "carol:0",
        {
            "type": "nickname",
            "nickname": "carol",
            "idurl": "http://h/carol.xml",
            "position": 0,
            "timestamp": NOW,
            "taken": [],
        },
        keys[ALICE],
    )
    with pytest.raises(RecordError) as caught:
        check(validator, "carol:0", record, "nickname")
    assert caught.value.rule == "signature" and "cannot get the identity" in caught.value.detail


def suppliers_record(keys, **changes) -> dict:
    record = {
        "type": "suppliers",
        "customer_idurl": ALICE,
        "publisher_idurl": ALICE,
        "ecc_map": "ecc/2x2",
        "suppliers": [BOB, ""],
        "revision": 4,
        "timestamp": 1700000000,
    }
    record.update(changes)
    return records.sign_record(f"suppliers:{ALICE}", record, keys[ALICE])


def test_suppliers_records(validator, keys) -> None:
    assert check(validator, f"suppliers:{ALICE}", suppliers_record(keys), "suppliers")["revision"] == 4
    with pytest.raises(RecordError, match="'content'"):
        check(validator, f"suppliers:{ALICE}", suppliers_record(keys, suppliers=[BOB]), "suppliers")
    with pytest.raises(RecordError, match="'fields'"):
        check(validator, f"suppliers:{ALICE}", suppliers_record(keys, ecc_map="ecc/3x3"), "suppliers")
    assert records.revision_of(suppliers_record(keys), "suppliers") == 4


def test_the_ecc_layouts_a_suppliers_record_may_name_are_the_ones_the_validator_is_given(keys) -> None:
    # raid is below the DHT in the layer order: the layouts are handed in, never imported.
    public_key = keys[ALICE].public_key()
    three = records.RecordValidator(lambda idurl: public_key, clock=lambda: NOW, ecc_layouts={"ecc/3x3": 3})
    record = suppliers_record(keys, ecc_map="ecc/3x3", suppliers=[BOB, "", ""])
    assert check(three, f"suppliers:{ALICE}", record, "suppliers") == record
    with pytest.raises(RecordError, match="must be one of ecc/3x3"):
        check(three, f"suppliers:{ALICE}", suppliers_record(keys), "suppliers")
    with pytest.raises(RecordError, match="'content'.*ecc/3x3 needs 3 supplier positions, got 2"):
        check(three, f"suppliers:{ALICE}", suppliers_record(keys, ecc_map="ecc/3x3"), "suppliers")
    none = records.RecordValidator(lambda idurl: public_key, clock=lambda: NOW)
    with pytest.raises(RecordError, match="'fields'.*this node was given no ECC maps"):
        check(none, f"suppliers:{ALICE}", suppliers_record(keys), "suppliers")


def test_relation_and_message_broker_records(validator, keys) -> None:
    relation = records.sign_record(
        f"relation:{BOB}:2", {"type": "relation", "idurl": BOB, "index": 2, "data": {"a": 1}, "revision": 0}, keys[BOB]
    )
    assert check(validator, f"relation:{BOB}:2", relation, "relation") == relation
    signed = message_broker(keys[ALICE], keys[BOB], ALICE, BOB)
    assert check(validator, f"message_broker:{ALICE}:0", signed, "message_broker") == signed
    with pytest.raises(RecordError, match="'signature'"):
        check(
            validator, f"message_broker:{ALICE}:0", message_broker(keys[BOB], keys[BOB], ALICE, BOB), "message_broker"
        )


def test_identity_records_must_carry_a_self_signed_document(validator) -> None:
    with pytest.raises(RecordError, match="'content'"):
        check(
            validator,
            f"identity:{ALICE}",
            {"type": "identity", "idurl": ALICE, "xml": "<identity/>", "revision": 0},
            "identity",
        )


def test_skip_validation_takes_any_json_but_not_oversized_values(validator) -> None:
    assert records.make_record("skip_validation", [1, 2]) == {"type": "skip_validation", "data": [1, 2]}
    assert records.make_record("skip_validation", {"a": 1}) == {"a": 1, "type": "skip_validation"}
    assert check(validator, "anything", {"type": "skip_validation", "x": 1}, "skip_validation")["x"] == 1
    with pytest.raises(RecordError, match="'size'"):
        check(validator, "big", {"type": "skip_validation", "x": "y" * 9000}, "skip_validation")
    with pytest.raises(RecordError, match="'json'"):
        result: list = []
        records.RecordValidator().validate("k", b"\xff\xfe", "skip_validation").addBoth(result.append)
        result[0].raiseException()


def test_make_record_refuses_wrong_shapes() -> None:
    with pytest.raises(RecordError, match="'type'"):
        records.make_record("nickname", {"type": "relation"})
    with pytest.raises(RecordError, match="'fields'"):
        records.make_record("nickname", "alice")
    with pytest.raises(InvalidInput, match="unknown record type"):
        records.make_record("no_such_type", {})


def test_a_validator_without_key_access_refuses_signed_records(keys) -> None:
    result: list = []
    records.RecordValidator(clock=lambda: NOW).validate(
        "alice:0", records.canonical_json(nickname(keys)), "nickname"
    ).addBoth(result.append)
    assert result[0].check(RecordError) and result[0].value.rule == "signature"
