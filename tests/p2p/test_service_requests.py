"""The RequestService/CancelService router alone: one gateway handler per command, keyed by "service"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twisted.internet import defer

from bitdust.errors import OutOfSpace
from bitdust.p2p import commands
from bitdust.p2p.gateway import Refused
from bitdust.p2p.packet import Packet
from bitdust.p2p.service_requests import ServiceHandlers, ServiceRequest, ServiceRequests

ME = "http://127.0.0.1:8084/supplier.xml"
ALICE = "http://127.0.0.1:8084/alice.xml"
BOB = "http://127.0.0.1:8084/bob.xml"


class FakeGateway:
    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}

    def register(self, command: str, handler: Any) -> None:
        assert command not in self.handlers
        self.handlers[command] = handler

    def unregister(self, command: str) -> None:
        self.handlers.pop(command, None)

    def my_ids(self) -> set[str]:
        return {ME}


def packet(command: str, payload: object, *, creator: str = ALICE, raw: bytes | None = None) -> Packet:
    data = raw if raw is not None else json.dumps(payload).encode()
    return Packet(
        command=command,
        owner_id=creator,
        creator_id=creator,
        packet_id="p1",
        date=1.0,
        payload=data,
        remote_id=ME,
    )


@pytest.fixture
def router() -> tuple[ServiceRequests, FakeGateway, list[tuple[str, ServiceRequest]]]:
    gateway = FakeGateway()
    routed = ServiceRequests(gateway)  # type: ignore[arg-type]  # a recording fake of the two methods used
    routed.attach()
    seen: list[tuple[str, ServiceRequest]] = []

    def handler(kind: str) -> Any:
        def handle(request: ServiceRequest) -> defer.Deferred[bytes]:
            seen.append((kind, request))
            return defer.succeed(kind.encode())

        return handle

    routed.add(
        "service_supplier",
        ServiceHandlers(request=handler("request"), cancel=handler("cancel"), dropped=handler("dropped")),
    )
    return routed, gateway, seen


def answer(d: defer.Deferred[bytes]) -> bytes | str:
    """The Ack payload, or the refusal message the gateway would put in the Fail."""
    out: list[bytes | str] = []
    d.addCallbacks(out.append, lambda f: out.append(f.trap(Refused) and f.getErrorMessage()))
    assert out, "the router answers at once for in-memory handlers"
    return out[0]


def test_attach_registers_both_commands_and_detach_removes_them(router: Any) -> None:
    routed, gateway, _seen = router
    assert set(gateway.handlers) == {commands.REQUEST_SERVICE, commands.CANCEL_SERVICE}
    routed.detach()
    assert gateway.handlers == {}


def test_a_request_reaches_the_handler_of_its_service_decoded_once(router: Any) -> None:
    _routed, gateway, seen = router
    payload = {"service": "service_supplier", "customer_id": ALICE, "needed_bytes": 5}
    got = answer(gateway.handlers[commands.REQUEST_SERVICE](packet(commands.REQUEST_SERVICE, payload), None))
    assert got == b"request"
    kind, request = seen[0]
    assert kind == "request" and request.payload == payload and request.sender == ALICE


def test_a_customers_cancel_goes_to_cancel_and_a_providers_drop_to_dropped(router: Any) -> None:
    _routed, gateway, seen = router
    cancel = gateway.handlers[commands.CANCEL_SERVICE]
    ours = {"service": "service_supplier", "customer_id": ALICE}
    assert answer(cancel(packet(commands.CANCEL_SERVICE, ours), None)) == b"cancel"
    dropped = {"service": "service_supplier", "customer_id": ME, "reason": "rejected"}
    assert answer(cancel(packet(commands.CANCEL_SERVICE, dropped, creator=BOB), None)) == b"dropped"
    assert [kind for kind, _ in seen] == ["cancel", "dropped"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not strict JSON"),
        (b'{"service": NaN}', "not strict JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"customer_id": "x"}', "'service'"),
        (b'{"service": "service_supplier"}', "'customer_id'"),
        (b'{"service": "service_proxy_server", "customer_id": "' + ALICE.encode() + b'"}', "not offered"),
        (b'{"service": "service_supplier", "customer_id": "' + BOB.encode() + b'"}', "not the sender"),
    ],
)
def test_what_no_service_should_see_is_refused_with_a_reason(router: Any, raw: bytes, reason: str) -> None:
    _routed, gateway, seen = router
    for command in (commands.REQUEST_SERVICE, commands.CANCEL_SERVICE):
        got = answer(gateway.handlers[command](packet(command, None, raw=raw), None))
        assert isinstance(got, str) and reason in got
    assert seen == []


def test_a_request_naming_us_as_customer_is_refused(router: Any) -> None:
    """Only a CancelService may name us: a RequestService "for us" from someone else is forged."""
    _routed, gateway, seen = router
    payload = {"service": "service_supplier", "customer_id": ME, "needed_bytes": 5}
    got = answer(gateway.handlers[commands.REQUEST_SERVICE](packet(commands.REQUEST_SERVICE, payload), None))
    assert isinstance(got, str) and "not the sender" in got and seen == []


def test_a_domain_error_of_a_handler_is_a_refusal_with_its_message(router: Any) -> None:
    routed, gateway, _seen = router
    routed.services.clear()

    def full(_request: ServiceRequest) -> defer.Deferred[bytes]:
        return defer.fail(OutOfSpace("not enough space: 1000 bytes free, 5000 needed"))

    routed.add("service_supplier", ServiceHandlers(request=full))
    payload = {"service": "service_supplier", "customer_id": ALICE}
    got = answer(gateway.handlers[commands.REQUEST_SERVICE](packet(commands.REQUEST_SERVICE, payload), None))
    assert got == "not enough space: 1000 bytes free, 5000 needed"
    cancel = answer(gateway.handlers[commands.CANCEL_SERVICE](packet(commands.CANCEL_SERVICE, payload), None))
    assert isinstance(cancel, str) and "does not take CancelService" in cancel


def test_each_role_of_a_service_has_one_owner_and_each_owner_removes_only_its_own() -> None:
    """The supplier side (request, cancel) and the customer side (dropped) share service_supplier."""
    routed = ServiceRequests(FakeGateway())  # type: ignore[arg-type]

    def handler(_request: ServiceRequest) -> defer.Deferred[bytes]:
        return defer.succeed(b"")

    def other(_request: ServiceRequest) -> defer.Deferred[bytes]:
        return defer.succeed(b"")

    supplier_side = ServiceHandlers(request=handler, cancel=handler)
    customer_side = ServiceHandlers(dropped=other)
    routed.add("service_supplier", supplier_side)
    routed.add("service_supplier", customer_side)
    assert routed.services["service_supplier"] == ServiceHandlers(request=handler, cancel=handler, dropped=other)
    with pytest.raises(ValueError, match="already has a request handler"):
        routed.add("service_supplier", ServiceHandlers(request=other))
    routed.remove("service_supplier", supplier_side)
    assert routed.services["service_supplier"] == customer_side
    routed.remove("service_supplier", customer_side)
    assert routed.services == {}
