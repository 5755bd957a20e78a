"""Which values a node keeps: a peer's STORE (rate, quota, record rules) and our own values.

A value is kept unless it would replace a newer revision, other signed content at the same
revision, or another owner's record; a peer's value is kept within the store's per-sender
limits, and anonymous values live at most ``unsigned_max_ttl`` here (:mod:`bitdust.dht.quota`).
Every STORE refused is counted for the host that sent it (:class:`~bitdust.dht.limits.Refusals`),
so a peer feeding us forged or replayed records shows in the node's status.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from bitdust.dht.errors import RecordError, RpcError
from bitdust.dht.limits import Refusals, TokenBuckets
from bitdust.dht.messages import Answer, RequestArgs
from bitdust.dht.quota import ANONYMOUS, record_rank
from bitdust.dht.records import RECORD_TYPES, RecordType, RecordValidator, decode_record, lifetime_left, revision_of
from bitdust.dht.settings import DhtSettings
from bitdust.dht.store import DhtStore, StoredValue
from bitdust.dht.value_cache import ValueCache


class Admission:
    """Checks and keeps values in the node's store (the cached answer for their key is dropped)."""

    def __init__(
        self,
        *,
        clock: IReactorTime,
        store: DhtStore,
        validator: RecordValidator,
        settings: DhtSettings,
        cache: ValueCache,
    ) -> None:
        self.clock = clock
        self.store = store
        self.validator = validator
        self.settings = settings
        self.cache = cache
        self._store_rate = TokenBuckets(clock, settings.store_rate, settings.store_burst)
        #: STOREs refused, per sending host and per reason
        self.refusals = Refusals()

    def max_ttl_of(self, record_type: str) -> int:
        """The longest a value of ``record_type`` a peer stores here lives (anonymous ones: shorter)."""
        if record_rank(record_type) == ANONYMOUS:
            return min(self.settings.max_ttl, self.settings.unsigned_max_ttl)
        return self.settings.max_ttl

    def handle_store(self, layer: int, args: RequestArgs, sender: str) -> defer.Deferred[Answer]:
        """A peer's STORE (its address proved itself: see VERIFIED_METHODS), charged to ``sender``.

        A refusal is counted for ``sender`` whichever rule it broke.
        """

        def counted(failure: Failure) -> Failure:
            if failure.check(RpcError):
                self.refusals.count(sender, failure.value.code)
            return failure

        return self._store(layer, args, sender).addErrback(counted)

    def _store(self, layer: int, args: RequestArgs, sender: str) -> defer.Deferred[Answer]:
        key, value, record_type, ttl = args["k"], args["v"], args["t"], args["ttl"]
        if record_type not in RECORD_TYPES:
            return defer.fail(RpcError("record-type", f"unknown record type {record_type!r}"))
        if not self._store_rate.take(sender):
            return defer.fail(RpcError("store-rate", "too many stores from your host: try again later"))
        refusal = self.store.refusal(layer, key, sender, record_type)
        if refusal is not None:
            return defer.fail(RpcError(*refusal))
        d = self.validator.validate(key, value, record_type)

        def accept(record: dict[str, Any]) -> Answer:
            ttl_here = min(ttl, self.max_ttl_of(record_type))
            self.accept_value(layer, key, value, record_type, record, ttl_here, args["p"], sender=sender)
            return {"ok": True}

        def refused(failure: Failure) -> NoReturn:
            failure.trap(RecordError)
            raise RpcError(f"record:{failure.value.rule}", failure.value.message)

        return d.addCallbacks(accept, refused)

    def accept_value(
        self,
        layer: int,
        key: str,
        value: bytes,
        record_type: str,
        record: dict[str, Any],
        ttl: int,
        publisher: bytes,
        original: bool = False,
        sender: str = "",
    ) -> None:
        """Keep a valid value unless it would replace a newer one or another owner's record.

        A peer's value (``sender`` set) is kept within the store's limits; ours always.
        """
        now = self.clock.seconds()
        left = lifetime_left(record, record_type, now)
        if left is not None:  # a record with a signed lifetime is kept no longer than it is valid
            ttl = max(1, min(ttl, math.ceil(left)))
        revision = revision_of(record, record_type)
        existing = self.store.get(layer, key, now)
        if existing is not None and existing.value != value:
            check_replace(existing, record_type, record, revision)
        if existing is not None and existing.value == value:
            original = original or existing.original
        item = StoredValue(
            layer=layer,
            key=key,
            value=value,
            record_type=record_type,
            stored_at=now,
            expires_at=now + ttl,
            publisher=publisher,
            original=original,
            revision=revision,
            sender="" if original else sender,
        )
        if original or not sender:
            self.store.put(item)
        else:
            refused = self.store.admit(item)
            if refused is not None:
                raise RpcError(*refused)
        self.cache.forget(layer, key)


def check_replace(existing: StoredValue, record_type: str, record: dict[str, Any], revision: int | None) -> None:
    """RpcError (``record:<rule>``) when ``record`` may not replace the ``existing`` value.

    Revisions only grow: a lower revision never replaces a higher one (a replayed old record),
    and at an equal revision only the same signed content may come again (signed anew: an
    RSA-PSS signature differs each time), never other content the owner signed with a revision
    it had already used.
    """
    if existing.record_type != record_type and existing.record_type != "skip_validation":
        raise RpcError("record:type", f"key holds a {existing.record_type} record until it expires")
    kind = RECORD_TYPES[record_type]
    old: dict[str, Any] | None = None
    if existing.record_type == record_type:
        try:
            old = decode_record(existing.value, record_type)
        except RecordError:
            old = None
    if kind.signer is not None and old is not None and old.get(kind.signer) != record.get(kind.signer):
        raise RpcError("record:owner", f"key is held by {old.get(kind.signer)} until its record expires")
    if revision is None or existing.revision is None:
        return
    if revision < existing.revision:
        raise RpcError("record:revision", f"revision {revision} is older than the stored {existing.revision}")
    if (
        revision == existing.revision
        and old is not None
        and _signed_content(old, kind) != _signed_content(record, kind)
    ):
        raise RpcError(
            "record:revision", f"revision {revision} is stored with other content: a change needs a higher one"
        )


def _signed_content(record: dict[str, Any], kind: RecordType) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in kind.signature_fields}
