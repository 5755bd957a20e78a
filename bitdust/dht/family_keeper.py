"""A supplier's copies of its customers' family records, kept on disk and published again.

The family record must outlive its customer being offline (it is how a customer who lost
everything but its key finds its suppliers), so every supplier of the family keeps the signed
record it was given and publishes it again every :data:`REPUBLISH_INTERVAL` seconds. The copy
is the customer's own signed bytes: a supplier cannot change it, only keep it alive.

The supplier service owns one :class:`FamilyKeeper`: it calls :meth:`FamilyKeeper.load` when it
starts, :meth:`FamilyKeeper.remember` with the record a customer sends in its RequestService,
:meth:`FamilyKeeper.forget` when the customer is gone, and runs :meth:`FamilyKeeper.republish`
with its ``run_every``. A record is checked in full before it is kept (signature included), and
never replaces a copy of a higher revision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.dht.errors import RecordError
from bitdust.dht.family_record import FAMILY_LAYER, FAMILY_TYPE, FamilyRecord, family_key
from bitdust.dht.records import canonical_json, decode_record
from bitdust.main.collaborators import RunBlocking
from bitdust.main.errors import Conflict, InvalidInput, Unavailable

if TYPE_CHECKING:
    from bitdust.dht.node import DhtNode
    from bitdust.dht.records import RecordValidator
    from bitdust.dht.republish import StoreOutcome

#: seconds between two publications of every kept record (well inside the DHT's default TTL)
REPUBLISH_INTERVAL = 6 * 3600.0
#: customers a supplier keeps records for at most (a bound on what strangers make us write)
MAX_KEPT = 10_000


def _file_name(customer_idurl: str) -> str:
    return hashlib.sha256(customer_idurl.encode("utf-8")).hexdigest()[:40] + ".json"


def _write(folder: Path, name: str, data: bytes) -> None:
    from bitdust.main.process.fileutil import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / name, data)


def _delete(path: Path) -> None:
    path.unlink(missing_ok=True)


def _read_all(folder: Path) -> list[bytes]:
    if not folder.is_dir():
        return []
    return [path.read_bytes() for path in sorted(folder.glob("*.json"))]


class FamilyKeeper:
    """The family records this supplier keeps, one per customer, in ``folder``.

    ``validator`` checks each record as every DHT node does; ``dht()`` is the running DHT node
    (None while the DHT is off: nothing is published then, the copies wait for the next round).
    """

    def __init__(
        self,
        folder: Path,
        *,
        validator: RecordValidator,
        dht: Callable[[], DhtNode | None],
        run_blocking: RunBlocking,
        log: Logger | None = None,
    ) -> None:
        self.folder = folder
        self._validator = validator
        self._dht = dht
        self._run_blocking = run_blocking
        self._log = log or Logger()
        self._kept: dict[str, FamilyRecord] = {}

    def kept(self, customer_idurl: str) -> FamilyRecord | None:
        return self._kept.get(customer_idurl)

    def customers(self) -> list[str]:
        return sorted(self._kept)

    def _check(self, value: bytes) -> defer.Deferred[FamilyRecord]:
        try:
            customer = decode_record(value, FAMILY_TYPE).get("customer_idurl")
        except RecordError as exc:
            return defer.fail(exc)
        if not isinstance(customer, str):
            return defer.fail(RecordError(FAMILY_TYPE, "fields", "field 'customer_idurl' is missing"))
        d = self._validator.validate(family_key(customer), value, FAMILY_TYPE)
        return d.addCallback(FamilyRecord.from_record)

    def load(self) -> defer.Deferred[int]:
        """Read the kept copies back (at start); one that no longer passes the checks is dropped."""
        d = self._run_blocking(_read_all, self.folder)

        def check_each(values: list[bytes]) -> defer.Deferred[int]:
            checks = [self._check(value).addErrback(self._unreadable) for value in values]

            def keep(found: list[FamilyRecord | None]) -> int:
                for record in found:
                    if record is not None:
                        known = self._kept.get(record.customer_idurl)
                        if known is None or known.revision < record.revision:
                            self._kept[record.customer_idurl] = record
                return len(self._kept)

            return defer.gatherResults(checks).addCallback(keep)

        return d.addCallback(check_each)

    def _unreadable(self, failure: Failure) -> None:
        failure.trap(RecordError)
        self._log.warn("a kept family record was dropped: {reason}", reason=failure.getErrorMessage())

    def remember(self, record: object, customer_idurl: str | None = None) -> defer.Deferred[FamilyRecord]:
        """Keep ``record`` (the JSON object a customer sent) after checking it; fires with it.

        ``customer_idurl``: who sent it (the packet's creator); a record of another customer,
        however well signed, is refused, so nobody hands us someone else's family. InvalidInput
        (RecordError: which rule) for a record that breaks the rules, Conflict for an older
        revision than the copy kept (or other content at its revision); a record we keep
        already is answered as it is. The copy is on disk before the Deferred fires.
        """
        if not isinstance(record, dict):
            return defer.fail(InvalidInput("a family record is a JSON object"))
        if customer_idurl is not None and record.get("customer_idurl") != customer_idurl:
            return defer.fail(InvalidInput(f"the family record is not the one of {customer_idurl}"))
        try:
            value = canonical_json(record)
        except (TypeError, ValueError) as exc:
            return defer.fail(InvalidInput(f"a family record is strict JSON: {exc}"))
        return self._check(value).addCallback(self._keep)

    def _keep(self, record: FamilyRecord) -> defer.Deferred[FamilyRecord] | FamilyRecord:
        known = self._kept.get(record.customer_idurl)
        if known is not None:
            if known.revision > record.revision:
                raise Conflict(f"the family record kept has revision {known.revision}, above {record.revision}")
            if known.revision == record.revision:
                if known.same_content(record):
                    return known
                raise Conflict(f"the family record kept at revision {known.revision} says something else")
        elif len(self._kept) >= MAX_KEPT:
            raise Conflict(f"this supplier keeps at most {MAX_KEPT} family records")
        self._kept[record.customer_idurl] = record
        d = self._run_blocking(_write, self.folder, _file_name(record.customer_idurl), record.value())
        return d.addCallback(lambda _: record)

    def forget(self, customer_idurl: str) -> defer.Deferred[None]:
        """Drop the copy of ``customer_idurl`` (no longer our customer); on disk too."""
        self._kept.pop(customer_idurl, None)
        return self._run_blocking(_delete, self.folder / _file_name(customer_idurl))

    def republish(self) -> defer.Deferred[list[StoreOutcome]]:
        """Publish every kept copy again through the DHT node (as its own value: the node republishes it too).

        A record the network refuses (a newer one is there already) is logged, not dropped:
        the customer's next request brings the newer one.
        """
        node = self._dht()
        if node is None:
            return defer.fail(Unavailable("the DHT is not running: the family records wait for the next round"))
        calls: list[defer.Deferred[StoreOutcome | None]] = []
        for record in list(self._kept.values()):
            d = node.set_value(record.key, record.value(), FAMILY_LAYER, FAMILY_TYPE)
            calls.append(d.addErrback(self._not_published, record))

        def published(outcomes: list[StoreOutcome | None]) -> list[StoreOutcome]:
            return [outcome for outcome in outcomes if outcome is not None]

        return defer.gatherResults(calls).addCallback(published)

    def _not_published(self, failure: Failure, record: FamilyRecord) -> None:
        failure.trap(InvalidInput)
        self._log.info(
            "family record of {customer} not published again: {reason}",
            customer=record.customer_idurl,
            reason=failure.getErrorMessage(),
        )
