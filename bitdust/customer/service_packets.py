"""The customer's reading and writing of the service_supplier packets (the shared wire protocol).

The gateway-side ``SupplierRequester`` sends ``request_payload`` in a RequestService and reads the
supplier's Ack with ``allocated_bytes``; a CancelService that a supplier sends us (it dropped us)
is read with ``rejection_reason``. Everything a peer sends is untrusted: anything but the exact
shape is ``Malformed``, never a crash.
"""

from __future__ import annotations

from bitdust.customer.collaborators import ServiceRequest
from bitdust.errors import Malformed
from bitdust.main import strict_json

SERVICE = "service_supplier"


def request_payload(request: ServiceRequest) -> bytes:
    """The RequestService payload: strict JSON text of the shared object."""
    return strict_json.dumps(request.payload())


def cancel_payload(customer_id: str) -> bytes:
    """Our CancelService payload: we release what the supplier allocated for us."""
    return strict_json.dumps({"service": SERVICE, "customer_id": customer_id})


def _object(payload: bytes) -> dict[str, object]:
    try:
        value = strict_json.loads(payload)
    except (strict_json.NotStrictJson, UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"not a strict JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


def allocated_bytes(payload: bytes) -> int:
    """The allocation in a supplier's Ack ``{"result": "accepted", "allocated_bytes": int}``."""
    answer = _object(payload)
    allocated = answer.get("allocated_bytes")
    if answer.get("result") != "accepted" or isinstance(allocated, bool) or not isinstance(allocated, int):
        raise Malformed("an Ack to RequestService must be {result: accepted, allocated_bytes: int}")
    if allocated < 0:
        raise Malformed(f"allocated_bytes must not be negative, not {allocated}")
    return allocated


def rejection_reason(payload: bytes, *, own_id: str) -> str:
    """The reason in a supplier's CancelService ``{"service", "customer_id", "reason"}`` that drops us."""
    notice = _object(payload)
    if notice.get("service") != SERVICE:
        raise Malformed(f"a CancelService to a customer is for {SERVICE}, not {notice.get('service')!r}")
    if notice.get("customer_id") != own_id:
        raise Malformed("the CancelService names another customer")
    reason = notice.get("reason", "")
    if not isinstance(reason, str):
        raise Malformed("reason must be a string")
    return strict_json.clip(reason, 200) or "no reason given"
