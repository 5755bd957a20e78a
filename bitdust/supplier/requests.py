"""What a customer's ``RequestService`` for ``service_supplier`` must be before we act on it.

Everything in the payload comes from a peer we do not trust yet. :func:`parse_request` checks the
fields that need nothing but the payload (sizes, the ECC map, the position); the family snapshot
needs the DHT's record check, which :func:`check_family` is handed (the same public check every
DHT node applies to a ``suppliers`` record, so a snapshot we keep is one the DHT would keep).
Each refusal is a :class:`~bitdust.errors.InvalidInput` or :class:`~bitdust.errors.Refused`
whose message the customer can show its user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.dht.errors import RecordError
from bitdust.dht.records import encode_record
from bitdust.errors import BitDustError, InvalidInput, Refused
from bitdust.raid.eccmap import ECC_MAPS
from bitdust.userid.idurl import IdUrl

SERVICE = "service_supplier"
#: More than any disk: a bigger number is a hostile or broken peer, not a customer.
MAX_NEEDED_BYTES = 1 << 50
REQUEST_FIELDS = frozenset({"service", "customer_id", "needed_bytes", "ecc_map", "position", "family"})

#: ``check(key, value, record_type)`` fires with the record or fails with RecordError: the DHT's validator.
RecordCheck = Callable[[str, bytes, str], "defer.Deferred[dict[str, Any]]"]


@attrs.frozen
class SupplyRequest:
    """A customer's request, its fields checked."""

    customer: IdUrl
    needed_bytes: int
    ecc_map: str
    position: int
    family: dict[str, Any] | None


def parse_request(payload: dict[str, Any], sender: str) -> SupplyRequest:
    """The checked request; InvalidInput naming the first field at fault."""
    unknown = sorted(set(payload) - REQUEST_FIELDS)
    if unknown:
        raise InvalidInput(f"bad request: unknown field {unknown[0]!r}")
    if payload.get("customer_id") != sender:
        raise InvalidInput("bad request: 'customer_id' is not the sender of the packet")
    try:
        customer = IdUrl.parse(sender)
    except BitDustError:
        raise InvalidInput("bad request: 'customer_id' is not an IDURL") from None
    needed = payload.get("needed_bytes")
    if not isinstance(needed, int) or isinstance(needed, bool) or not 0 < needed <= MAX_NEEDED_BYTES:
        raise InvalidInput(f"bad request: 'needed_bytes' must be a whole number from 1 to {MAX_NEEDED_BYTES}")
    ecc_map = payload.get("ecc_map")
    layout = ECC_MAPS.get(ecc_map) if isinstance(ecc_map, str) else None
    if layout is None:
        raise InvalidInput(f"bad request: unknown ECC map (known: {', '.join(ECC_MAPS)})")
    position = payload.get("position")
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < layout.suppliers:
        raise InvalidInput(f"bad request: 'position' must be 0 to {layout.suppliers - 1} for {layout.name}")
    family = payload.get("family")
    if family is not None and not isinstance(family, dict):
        raise InvalidInput("bad request: 'family' must be the customer's signed family record or null")
    return SupplyRequest(customer=customer, needed_bytes=needed, ecc_map=layout.name, position=position, family=family)


def check_family(request: SupplyRequest, check: RecordCheck | None) -> defer.Deferred[dict[str, Any] | None]:
    """Fires with the family record (None when the customer has none yet); Refused when it is not valid.

    Valid means: a ``suppliers`` record of this very customer that passes the DHT's checks,
    signature by the customer's identity key included.
    """
    family = request.family
    if family is None:
        return defer.succeed(None)
    if check is None:
        return defer.fail(Refused("cannot check the family record: the DHT is not running here"))
    if family.get("customer_idurl") != request.customer.url:
        return defer.fail(InvalidInput("bad request: the family record is not the customer's own"))
    try:
        value = encode_record(family)
    except (RecordError, BitDustError) as exc:
        return defer.fail(InvalidInput(f"bad request: the family record cannot be encoded: {exc}"))

    def refused(failure: Failure) -> Failure:
        failure.trap(RecordError)
        raise InvalidInput(f"bad request: the family record is not valid: {failure.getErrorMessage()}")

    def found(record: dict[str, Any]) -> dict[str, Any] | None:
        return record

    return check(f"suppliers:{request.customer.url}", value, "suppliers").addCallbacks(found, refused)
