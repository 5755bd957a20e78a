"""The family record as every DHT node enforces it on STORE: each refusal, counted for its sender."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import task

from bitdust.dht.admission import Admission
from bitdust.dht.errors import RpcError
from bitdust.dht.family_record import family_key
from bitdust.dht.records import RecordValidator
from bitdust.dht.settings import DhtSettings
from bitdust.dht.store import DhtStore
from bitdust.dht.value_cache import ValueCache
from tests.dht.family_builders import S, family, value
from tests.dht.helpers import ALICE, BOB

KEY = family_key(ALICE)
HOST = "10.0.0.9"


@pytest.fixture
def admission(validator: RecordValidator) -> Admission:
    return Admission(
        clock=task.Clock(), store=DhtStore(), validator=validator, settings=DhtSettings(), cache=ValueCache()
    )


def store(admission: Admission, record: Any, sender: str = HOST, key: str = KEY) -> str | None:
    """The refusal code of a peer's STORE of ``record`` (None: kept)."""
    data = record if isinstance(record, bytes) else value(record)
    outcome: list = []
    args = {"k": key, "v": data, "t": "suppliers", "ttl": 3600, "p": b"p" * 20}
    admission.handle_store(0, args, sender).addBoth(outcome.append)
    if isinstance(outcome[0], dict):
        return None
    assert outcome[0].check(RpcError), outcome[0]
    return str(outcome[0].value.code)


def held_revision(admission: Admission) -> int | None:
    item = admission.store.get(0, KEY, 0)
    return None if item is None else item.revision


def test_an_honest_family_record_is_kept_and_grows(admission, keys) -> None:
    assert store(admission, family(keys, 1)) is None
    assert store(admission, family(keys, 2, suppliers=[S[0], S[5], "", S[3]])) is None
    assert held_revision(admission) == 2
    assert admission.refusals.of(HOST) == {}


def test_the_same_record_signed_again_is_kept(admission, keys) -> None:
    """RSA-PSS signatures differ each time: a republished record at its own revision is fine."""
    first, again = family(keys, 3), family(keys, 3)
    assert first["signature"] != again["signature"]
    assert store(admission, first) is None and store(admission, again) is None


def test_a_record_signed_by_another_key_is_refused(admission, keys) -> None:
    assert store(admission, family(keys, 1, signer=BOB)) == "record:signature"
    assert held_revision(admission) is None
    assert admission.refusals.of(HOST) == {"record:signature": 1}


def test_a_replayed_older_record_is_refused(admission, keys) -> None:
    old = family(keys, 1)
    assert store(admission, family(keys, 2)) is None
    assert store(admission, old) == "record:revision"
    assert held_revision(admission) == 2
    assert admission.refusals.of(HOST) == {"record:revision": 1}


def test_other_content_at_a_used_revision_is_refused(admission, keys) -> None:
    assert store(admission, family(keys, 2)) is None
    assert store(admission, family(keys, 2, suppliers=[S[7], S[1], S[2], S[3]])) == "record:revision"
    assert S[7] not in admission.store.get(0, KEY, 0).value.decode()
    assert held_revision(admission) == 2


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"revision": "5"}, "record:fields"),
        ({"revision": -1}, "record:fields"),
        ({"suppliers": "http://127.0.0.1:8084/supplier0.xml"}, "record:fields"),
        ({"suppliers": [S[0], S[1], 7, S[3]]}, "record:fields"),
        ({"ecc_map": 4}, "record:fields"),
        ({"ecc_map": "ecc/5x5"}, "record:fields"),
        ({"timestamp": 1.5}, "record:fields"),
        ({"customer_idurl": "alice"}, "record:fields"),
        ({"extra": 1}, "record:fields"),
        ({"suppliers": [S[0], S[1], S[2]]}, "record:content"),
        ({"suppliers": [S[0], S[1], S[0], S[3]]}, "record:content"),
        ({"suppliers": [S[0], ALICE, S[2], S[3]]}, "record:content"),
        ({"suppliers": ["", "", "", ""]}, "record:content"),
        ({"publisher_idurl": S[0]}, "record:content"),
    ],
)
def test_a_malformed_record_is_refused_and_counted(admission, keys, changes, code) -> None:
    assert store(admission, family(keys, 1, changes=changes)) == code
    assert held_revision(admission) is None
    assert admission.refusals.of(HOST) == {code: 1}


def test_empty_positions_are_allowed(admission, keys) -> None:
    assert store(admission, family(keys, 1, suppliers=[S[0], "", "", S[3]])) is None


def test_a_record_under_another_customers_key_or_not_json_is_refused(admission, keys) -> None:
    assert store(admission, family(keys, 1), key=family_key(BOB)) == "record:key"
    assert store(admission, b"not json") == "record:json"
    assert admission.refusals.of(HOST) == {"record:key": 1, "record:json": 1}


def test_refusals_are_counted_per_sending_host(admission, keys) -> None:
    forged = family(keys, 1, signer=BOB)
    for sender in ("10.0.0.1", "10.0.0.1", "10.0.0.2"):
        store(admission, forged, sender=sender)
    assert admission.refusals.total_of("10.0.0.1") == 2 and admission.refusals.total_of("10.0.0.2") == 1
    assert admission.refusals.to_json()["by_reason"] == {"record:signature": 3}


def test_a_local_set_obeys_the_same_revision_rule(admission, keys) -> None:
    """Our own sets go through accept_value too: an older record is refused before any is sent."""
    assert store(admission, family(keys, 4)) is None
    old = family(keys, 3)
    with pytest.raises(RpcError) as refused:
        admission.accept_value(0, KEY, value(old), "suppliers", old, 3600, b"p" * 20, original=True)
    assert refused.value.code == "record:revision"
