"""Answering a read from a value this node holds itself, as if a lookup had found it here.

A value is checked when it is stored, but a database written by an older version may hold one
that is not a strict JSON object (a NaN, say); such a value is ignored on read, like a record
that breaks a rule, so it can never turn a read into an error.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from bitdust.dht.errors import RecordError
from bitdust.dht.lookup import FoundValue, LookupResult
from bitdust.dht.messages import Contact
from bitdust.dht.records import decode_record, value_problem
from bitdust.dht.store import StoredValue
from bitdust.main.collaborators import RunBlocking


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


def dump_values(
    items: list[StoredValue], now: float, run_blocking: RunBlocking, log: Logger
) -> defer.Deferred[list[dict[str, Any]]]:
    """``items`` as JSON rows (with the time each has left at ``now``).

    A value that is not a strict JSON record (left by an older version) is left out, with a log
    line, so one bad value cannot make the whole dump unreadable. Parsing up to ``max_items``
    values is blocking work: it runs through ``run_blocking``, not on the reactor.
    """

    def check() -> list[tuple[StoredValue, str | None]]:
        return [(item, value_problem(item.value, item.record_type)) for item in items]

    def listed(checked: list[tuple[StoredValue, str | None]]) -> list[dict[str, Any]]:
        rows = []
        for item, problem in checked:
            if problem is None:
                rows.append(item.to_json(now))
            else:
                log.warn("DHT value {key} left out of the dump: {reason}", key=item.key, reason=problem)
        return rows

    return run_blocking(check).addCallback(listed)
