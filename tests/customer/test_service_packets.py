"""The customer's side of the service_supplier packets: what it sends, and what it accepts from a peer."""

from __future__ import annotations

import json

import pytest

from bitdust.customer.collaborators import ServiceRequest
from bitdust.customer.service_packets import allocated_bytes, cancel_payload, rejection_reason, request_payload
from bitdust.errors import Malformed
from tests.customer.fakes import CUSTOMER


def test_the_request_and_cancel_payloads_are_the_shared_objects() -> None:
    request = ServiceRequest(CUSTOMER, needed_bytes=5000, ecc_map="ecc/4x4", position=3, family=None)
    assert json.loads(request_payload(request)) == {
        "service": "service_supplier",
        "customer_id": CUSTOMER,
        "needed_bytes": 5000,
        "ecc_map": "ecc/4x4",
        "position": 3,
        "family": None,
    }
    assert json.loads(cancel_payload(CUSTOMER)) == {"service": "service_supplier", "customer_id": CUSTOMER}


def test_an_ack_gives_the_allocation() -> None:
    assert allocated_bytes(b'{"result": "accepted", "allocated_bytes": 5000}') == 5000


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"[]",
        b'{"result": "accepted"}',
        b'{"result": "cancelled", "allocated_bytes": 1}',
        b'{"result": "accepted", "allocated_bytes": true}',
        b'{"result": "accepted", "allocated_bytes": -1}',
        b'{"result": "accepted", "allocated_bytes": 1.5}',
        b'{"result": "accepted", "allocated_bytes": NaN}',
        b"\xff\xfe",
    ],
)
def test_a_bad_ack_is_malformed(payload: bytes) -> None:
    with pytest.raises(Malformed):
        allocated_bytes(payload)


def test_a_supplier_dropping_us_gives_its_reason() -> None:
    notice = json.dumps({"service": "service_supplier", "customer_id": CUSTOMER, "reason": "idle for 14 days"})
    assert rejection_reason(notice.encode(), own_id=CUSTOMER) == "idle for 14 days"
    bare = json.dumps({"service": "service_supplier", "customer_id": CUSTOMER}).encode()
    assert rejection_reason(bare, own_id=CUSTOMER) == "no reason given"


@pytest.mark.parametrize(
    "notice",
    [
        {"service": "service_proxy", "customer_id": CUSTOMER},
        {"service": "service_supplier", "customer_id": "http://127.0.0.1:8084/other.xml"},
        {"service": "service_supplier", "customer_id": CUSTOMER, "reason": 5},
    ],
)
def test_a_bad_cancel_notice_is_malformed(notice: dict[str, object]) -> None:
    with pytest.raises(Malformed):
        rejection_reason(json.dumps(notice).encode(), own_id=CUSTOMER)
