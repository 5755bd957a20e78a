"""Family records for the DHT tests: honest ones, forged ones and broken ones, all signed."""

from __future__ import annotations

from typing import Any

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.dht.family_record import build_record, family_key
from tests.dht.helpers import ALICE
from tests.dht.record_builders import NOW

S = [f"http://127.0.0.1:8084/supplier{n}.xml" for n in range(8)]


def family(
    keys: dict[str, RsaKey],
    revision: int = 1,
    suppliers: list[str] | None = None,
    signer: str = ALICE,
    changes: dict[str, Any] | None = None,
) -> dict:
    """Alice's family record on ecc/4x4, signed by ``signer``'s key after ``changes`` are made."""
    record = build_record(ALICE, "ecc/4x4", suppliers or S[:4], revision, keys[ALICE], timestamp=NOW)
    if changes or signer != ALICE:
        unsigned = {k: v for k, v in record.items() if k != "signature"}
        unsigned.update(changes or {})
        record = records.sign_record(family_key(ALICE), unsigned, keys[signer])
    return record


def value(record: dict) -> bytes:
    return records.canonical_json(record)
