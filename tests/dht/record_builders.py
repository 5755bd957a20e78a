"""Signed records for the DHT tests, built the way an honest node (or an attacker with a key) would."""

from __future__ import annotations

import re
from typing import Any

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.userid.identity import Identity

NOW = 1_700_000_000  # the validators' clock in record tests: signed timestamps are judged against it


def nickname(
    rsa_key: RsaKey,
    idurl: str,
    name: str = "alice",
    position: int = 0,
    *,
    timestamp: int = NOW,
    taken: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    record = {
        "type": "nickname",
        "nickname": name,
        "idurl": idurl,
        "position": position,
        "timestamp": timestamp,
        "taken": taken or [],
    }
    return records.sign_record(f"{name}:{position}", record, rsa_key)


def message_broker(
    owner_key: RsaKey | None,
    broker_key: RsaKey | None,
    customer: str,
    broker: str,
    position: int = 0,
    revision: int = 1,
) -> dict[str, Any]:
    """Signed by the group owner (``signature``) and the broker (``broker_signature``), each if given."""
    key = f"message_broker:{customer}:{position}"
    record: dict[str, Any] = {
        "type": "message_broker",
        "customer_idurl": customer,
        "broker_idurl": broker,
        "position": position,
        "revision": revision,
        "timestamp": NOW,
    }
    unsigned = dict(record)
    if owner_key is not None:
        record = records.sign_record(key, unsigned, owner_key)
    if broker_key is not None:
        record["broker_signature"] = records.sign_record(key, unsigned, broker_key, "broker_signature")[
            "broker_signature"
        ]
    return record


def identity_document(rsa_key: RsaKey, sources: list[str], revision: int = 1) -> Identity:
    document = Identity(
        sources=sources,
        contacts=("tcp://127.0.0.1:7771",),
        public_key=rsa_key.public_openssh(),
        revision=revision,
        date="Jan 01, 2025",
        version="test",
    )
    return document.signed(rsa_key)


def compact(xml: str) -> str:
    """The same document on one line: what an attacker sent to pass the old printable-text rule."""
    return re.sub(r">\s+<", "><", xml).replace("\n", "")


def identity_record(idurl: str, xml: str, revision: int) -> dict[str, Any]:
    return {"type": "identity", "idurl": idurl, "xml": xml, "revision": revision}
