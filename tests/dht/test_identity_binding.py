"""Issue 11 point 1 through the DHT: records "from" alice checked against the key her own server vouches for.

Before the fix one STORE of a record signed by the attacker and naming the attacker's IDURL made
the seed fetch the attacker's document, which listed alice's IDURL too; from then on the seed
accepted ``nickname`` and ``suppliers`` records "from" alice signed by the attacker. The record
validator gets its keys from the identity cache's :meth:`public_key` (what service_entangled_dht
passes it), here over fake identity servers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.dht.errors import RecordError
from bitdust.raid.eccmap import supplier_positions
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache
from tests.dht import record_builders
from tests.dht.record_builders import NOW

ALICE = "http://id-a.net/alice.xml"
EVIL = "http://evil.net/alice.xml"
SUPPLIER = "http://id-a.net/sup.xml"


class Servers:
    def __init__(self) -> None:
        self.documents: dict[str, Identity] = {}

    def __call__(self, url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        document = self.documents.get(url)
        if document is None:
            return defer.succeed((404, b""))
        return defer.succeed((200, document.to_xml().encode()))


def _identity(key: RsaKey, *sources: str) -> Identity:
    return Identity(sources=list(sources), public_key=key.public_openssh(), revision=1).signed(key)


@pytest.fixture(scope="module")
def alice_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture(scope="module")
def mallory_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture
def validator(tmp_path: Path, alice_key: RsaKey, mallory_key: RsaKey) -> records.RecordValidator:
    servers = Servers()
    servers.documents[ALICE] = _identity(alice_key, ALICE)
    servers.documents[EVIL] = _identity(mallory_key, EVIL, ALICE)
    cache = IdentityCache(tmp_path / "identitycache", http_get=servers, clock=task.Clock())
    return records.RecordValidator(cache.public_key, clock=lambda: NOW, ecc_layouts=supplier_positions())


def _outcome(validator: records.RecordValidator, key: str, record: dict[str, Any], kind: str) -> Any:
    box: list[Any] = []
    validator.validate(key, records.canonical_json(record), kind).addBoth(box.append)
    assert box, "validation did not finish"
    return box[0]


def _nickname(idurl: str, signer: RsaKey, name: str = "alice") -> tuple[str, dict[str, Any]]:
    key = f"{name}:0"
    return key, record_builders.nickname(signer, idurl, name)


def _suppliers(signer: RsaKey) -> tuple[str, dict[str, Any]]:
    key = f"suppliers:{ALICE}"
    record = {
        "type": "suppliers",
        "customer_idurl": ALICE,
        "publisher_idurl": ALICE,
        "ecc_map": "ecc/2x2",
        "suppliers": [SUPPLIER, ""],
        "revision": 1,
        "timestamp": 1700000000,
    }
    return key, records.sign_record(key, record, signer)


def _refused_signature(result: Any) -> None:
    assert hasattr(result, "check") and result.check(RecordError), result
    assert result.value.rule == "signature"


def test_records_from_alice_signed_by_the_attacker_are_refused(
    validator: records.RecordValidator, alice_key: RsaKey, mallory_key: RsaKey
) -> None:
    # The attacker's own record is fine: its server vouches for EVIL (and this fetches its document).
    key, own = _nickname(EVIL, mallory_key, name="mallory")
    assert _outcome(validator, key, own, "nickname") == own
    # Records "from" alice signed by the attacker are refused ...
    key, forged = _nickname(ALICE, mallory_key)
    _refused_signature(_outcome(validator, key, forged, "nickname"))
    key, forged_family = _suppliers(mallory_key)
    _refused_signature(_outcome(validator, key, forged_family, "suppliers"))
    # ... and hers are accepted.
    key, real = _nickname(ALICE, alice_key)
    assert _outcome(validator, key, real, "nickname") == real
    key, family = _suppliers(alice_key)
    assert _outcome(validator, key, family, "suppliers") == family
