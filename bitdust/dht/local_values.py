"""Answering a read from a value this node holds itself, as if a lookup had found it here.

A value is checked when it is stored, but a database written by an older version may hold one
that is not a strict JSON object (a NaN, say); such a value is ignored on read, like a record
that breaks a rule, so it can never turn a read into an error.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from bitdust.dht.errors import RecordError
from bitdust.dht.lookup import FoundValue, LookupResult
from bitdust.dht.messages import Contact
from bitdust.dht.records import decode_record
from bitdust.dht.store import StoredValue


def readable_record(item: StoredValue, log: Logger) -> dict[str, Any] | None:
    """The record of a value we hold, or None (logged) when it is not a strict JSON object."""
    try:
        return decode_record(item.value, item.record_type)
    except RecordError as exc:
        log.warn(
            "DHT value {key} on layer {layer} ignored: {reason}", key=item.key, layer=item.layer, reason=exc.message
        )
        return None


def local_result(
    local: StoredValue, record_type: str, result: LookupResult, *, own_id: bytes, now: float, log: Logger
) -> LookupResult:
    """``result`` with our own value as its value (unchanged when that value is unreadable)."""
    record = readable_record(local, log)
    if record is None:
        return result
    me = Contact(own_id, "127.0.0.1", 0)
    result.value = FoundValue(local.key, local.value, record_type, local.ttl(now), record, me, local.revision)
    return result
