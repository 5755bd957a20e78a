"""The family record: a customer's signed list of its suppliers on the DHT, built, published, read.

A customer who lost everything but its master key finds its data again through this record, so
nobody but the customer may write it and nobody may turn it back. The record is the ``suppliers``
record type (:mod:`bitdust.dht.record_types`), stored under ``suppliers:<customer IDURL>`` on
layer 0::

    {"type": "suppliers", "customer_idurl": C, "publisher_idurl": C, "ecc_map": "ecc/4x4",
     "suppliers": [S0, S1, "", S3], "revision": 7, "timestamp": 1700000000, "signature": "..."}

Every DHT node checks it on every STORE, from peers and local sets alike: signed by the key C's
identity is bound to (a record signed by another key is refused); one position per supplier of
the ECC map, ``""`` for a position not hired yet but at least one filled; no supplier twice; C
never among its own suppliers; revisions only grow (a lower revision, or other content at the
same revision, never replaces what a node holds). Suppliers keep a copy and publish it again
(:mod:`bitdust.dht.family_keeper`): the signed bytes are the customer's, whoever stores them.

A node can still serve an old record it kept (it never saw the newer one), so a reader does not
trust the DHT's answer alone: :class:`FamilyRecords` checks every record it is given once more
and remembers the highest revision it has seen per customer, so a replay after a newer record
is refused even when a DHT node serves it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.dht.errors import RecordError
from bitdust.dht.records import canonical_json, decode_record, sign_record
from bitdust.main.collaborators import RunBlocking
from bitdust.main.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.dht.lookup import LookupResult
    from bitdust.dht.node import DhtNode
    from bitdust.dht.republish import StoreOutcome

FAMILY_TYPE = "suppliers"
FAMILY_LAYER = 0
#: customers whose highest revision a reader remembers (the least recently read go first)
MAX_REMEMBERED = 10_000


def family_key(customer_idurl: str) -> str:
    """The DHT key of ``customer_idurl``'s family record."""
    return f"{FAMILY_TYPE}:{customer_idurl}"


@attrs.frozen
class FamilyRecord:
    """One checked family record; ``record`` is the signed JSON object as stored."""

    customer_idurl: str
    ecc_map: str
    suppliers: tuple[str, ...]
    revision: int
    timestamp: int
    publisher_idurl: str
    record: dict[str, Any] = attrs.field(eq=False, repr=False)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FamilyRecord:
        """From a record that passed the ``suppliers`` type's checks."""
        return cls(
            customer_idurl=record["customer_idurl"],
            ecc_map=record["ecc_map"],
            suppliers=tuple(record["suppliers"]),
            revision=record["revision"],
            timestamp=record["timestamp"],
            publisher_idurl=record["publisher_idurl"],
            record=record,
        )

    @property
    def key(self) -> str:
        return family_key(self.customer_idurl)

    def value(self) -> bytes:
        """The bytes stored on the DHT (canonical JSON of the signed record)."""
        return canonical_json(self.record)

    def same_content(self, other: FamilyRecord) -> bool:
        """Both say the same thing (a signature made again differs: RSA-PSS is randomized)."""
        return self == other

    def to_json(self) -> dict[str, Any]:
        """The API's answer (the original's ``suppliers_list_dht`` shape)."""
        return {
            "suppliers": list(self.suppliers),
            "ecc_map": self.ecc_map,
            "customer_idurl": self.customer_idurl,
            "revision": self.revision,
            "publisher_idurl": self.publisher_idurl,
            "timestamp": self.timestamp,
        }


def build_record(
    customer_idurl: str,
    ecc_map: str,
    suppliers: Sequence[str],
    revision: int,
    master_key: RsaKey,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """Blocking (RSA): the family record of ``customer_idurl``, signed by its master key.

    ``suppliers`` is ordered by position (``""`` for a position not hired). Only the signature
    is made here; the record's rules are checked where it is published.
    """
    record = {
        "type": FAMILY_TYPE,
        "customer_idurl": customer_idurl,
        "publisher_idurl": customer_idurl,
        "ecc_map": ecc_map,
        "suppliers": list(suppliers),
        "revision": revision,
        "timestamp": int(time.time()) if timestamp is None else timestamp,
    }
    return sign_record(family_key(customer_idurl), record, master_key)


class FamilyRecords:
    """Publishes family records through a DHT node and reads them back, checked.

    ``node`` is the running DHT node; ``run_blocking`` the engine's thread pool (signing).
    """

    def __init__(self, node: DhtNode, run_blocking: RunBlocking) -> None:
        self.node = node
        self._run_blocking = run_blocking
        self._seen: OrderedDict[str, FamilyRecord] = OrderedDict()
        #: records a lookup was given and refused (older than seen, or other content at a seen revision)
        self.refused = 0

    def seen(self, customer_idurl: str) -> FamilyRecord | None:
        """The highest valid revision read or published here for ``customer_idurl``."""
        return self._seen.get(customer_idurl)

    def _remember(self, found: FamilyRecord) -> FamilyRecord:
        """``found`` unless a higher revision, or other content at its revision, was seen: then that one."""
        known = self._seen.pop(found.customer_idurl, None)
        if known is not None and (
            known.revision > found.revision or (known.revision == found.revision and not known.same_content(found))
        ):
            self.refused += 1
            found = known
        self._seen[found.customer_idurl] = found
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)
        return found

    def verify(self, customer_idurl: str, value: bytes) -> defer.Deferred[FamilyRecord]:
        """The record in ``value`` checked completely (signature included) as ``customer_idurl``'s."""
        d = self.node.validator.validate(family_key(customer_idurl), value, FAMILY_TYPE)
        return d.addCallback(FamilyRecord.from_record)

    def publish(
        self, customer_idurl: str, ecc_map: str, suppliers: Sequence[str], revision: int, master_key: RsaKey
    ) -> defer.Deferred[StoreOutcome]:
        """Sign and publish our family; Conflict when ``revision`` does not grow past what we saw."""
        known = self.seen(customer_idurl)
        if known is not None and revision <= known.revision:
            return defer.fail(Conflict(f"family revision {revision} is not above the known {known.revision}"))
        d = self._run_blocking(build_record, customer_idurl, ecc_map, list(suppliers), revision, master_key)
        return d.addCallback(lambda record: self.publish_record(canonical_json(record)))

    def publish_record(self, value: bytes) -> defer.Deferred[StoreOutcome]:
        """Publish a signed family record (ours or one a supplier keeps) as this node's value.

        The DHT node checks it like any STORE; RecordError names the rule it breaks.
        """
        try:
            record = decode_record(value, FAMILY_TYPE)
        except RecordError as exc:
            return defer.fail(exc)
        customer = record.get("customer_idurl")
        if not isinstance(customer, str):
            return defer.fail(InvalidInput("a family record names its customer in customer_idurl"))
        d = self.node.set_value(family_key(customer), value, FAMILY_LAYER, FAMILY_TYPE)

        def stored(outcome: StoreOutcome) -> StoreOutcome:
            if outcome.success:
                self._remember(FamilyRecord.from_record(record))
            return outcome

        return d.addCallback(stored)

    def lookup(self, customer_idurl: str) -> defer.Deferred[FamilyRecord | None]:
        """The newest valid family record of ``customer_idurl`` (None: none anywhere, none seen).

        What the DHT answers is checked again here, so a value this node kept from an older
        version of the rules never passes; an answer older than the newest record seen (or
        other content at its revision) is refused and the seen record answered instead.
        """
        d = self.node.get_value(family_key(customer_idurl), FAMILY_LAYER, FAMILY_TYPE)

        def found(result: LookupResult) -> defer.Deferred[FamilyRecord | None] | FamilyRecord | None:
            if result.value is None:
                return self.seen(customer_idurl)
            checked = self.verify(customer_idurl, result.value.value)

            def refused(failure: Failure) -> FamilyRecord | None:
                failure.trap(RecordError)
                self.refused += 1
                return self.seen(customer_idurl)

            return checked.addCallbacks(self._remember, refused)

        return d.addCallback(found)
