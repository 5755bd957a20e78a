"""The router of ``RequestService`` and ``CancelService`` packets, keyed by the payload's ``"service"``.

The gateway has one handler per command, but several services answer these two commands (the
supplier today; proxy routers and group brokers later). This router is that one handler: it
decodes the strict JSON payload once, refuses what no service should ever see (a payload that is
not an object, an unknown service, a ``customer_id`` the sender does not speak for) and hands a
:class:`ServiceRequest` to the handlers the service registered under its name.

Who may name whom: a ``RequestService`` and a customer's ``CancelService`` speak for their creator,
so ``customer_id`` must be the creator. A ``CancelService`` whose ``customer_id`` is *us* comes
from a provider dropping us (a supplier rejecting its customer): it goes to the service's
``dropped`` handler, which the customer side registers. Anything else is refused.

Handlers return a Deferred of the Ack payload (bytes); a domain error
(:class:`bitdust.errors.BitDustError`) they raise becomes a ``Fail`` carrying its message, so the
peer sees the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.errors import BitDustError
from bitdust.main import strict_json
from bitdust.p2p import commands
from bitdust.p2p.gateway import Refused
from bitdust.p2p.packet import Packet

if TYPE_CHECKING:
    from bitdust.p2p.gateway import Gateway

MAX_SERVICE_NAME = 64


@attrs.frozen
class ServiceRequest:
    """A decoded ``RequestService``/``CancelService``: the checked fields and the whole payload."""

    packet: Packet
    service: str
    customer_id: str
    payload: dict[str, Any]

    @property
    def sender(self) -> str:
        return self.packet.creator_id


ServiceHandler = Callable[[ServiceRequest], "defer.Deferred[bytes]"]


@attrs.frozen
class ServiceHandlers:
    """What one service answers: a request, a customer's cancel, a provider dropping us (each optional)."""

    request: ServiceHandler | None = None
    cancel: ServiceHandler | None = None
    dropped: ServiceHandler | None = None


ROLES = ("request", "cancel", "dropped")


def decode_payload(packet: Packet) -> dict[str, Any]:
    """The payload as a JSON object with a ``service`` name and a ``customer_id``; Refused naming why not."""
    try:
        payload = strict_json.loads(packet.payload)
    except (strict_json.NotStrictJson, UnicodeDecodeError) as exc:
        raise Refused(f"bad request: the payload is not strict JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise Refused("bad request: the payload is not a JSON object")
    service = payload.get("service")
    if not isinstance(service, str) or not 0 < len(service) <= MAX_SERVICE_NAME:
        raise Refused("bad request: 'service' must be a service name")
    if not isinstance(payload.get("customer_id"), str):
        raise Refused("bad request: 'customer_id' must be an IDURL")
    return payload


class ServiceRequests:
    """The one gateway handler of both commands while :meth:`attach`-ed; services :meth:`add` themselves."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.services: dict[str, ServiceHandlers] = {}

    def attach(self) -> None:
        self.gateway.register(commands.REQUEST_SERVICE, self.on_request)
        self.gateway.register(commands.CANCEL_SERVICE, self.on_cancel)

    def detach(self) -> None:
        for command in (commands.REQUEST_SERVICE, commands.CANCEL_SERVICE):
            if self.gateway.handlers.get(command) in (self.on_request, self.on_cancel):
                self.gateway.unregister(command)

    def add(self, service: str, handlers: ServiceHandlers) -> None:
        """Add the handlers a service answers with; each role of a service has one owner.

        The supplier side answers ``request`` and ``cancel`` of ``service_supplier`` while the
        customer side of the same node takes its ``dropped``: both add under one name.
        """
        held = self.services.get(service, ServiceHandlers())
        taken = [role for role in ROLES if getattr(handlers, role) is not None and getattr(held, role) is not None]
        if taken:
            raise ValueError(f"{service} already has a {taken[0]} handler")
        merged = {role: getattr(handlers, role) or getattr(held, role) for role in ROLES}
        self.services[service] = ServiceHandlers(**merged)

    def remove(self, service: str, handlers: ServiceHandlers) -> None:
        """Remove the roles ``handlers`` holds (those still theirs); the service goes with its last role."""
        held = self.services.get(service)
        if held is None:
            return
        kept = {role: None if getattr(held, role) == getattr(handlers, role) else getattr(held, role) for role in ROLES}
        if any(kept.values()):
            self.services[service] = ServiceHandlers(**kept)
        else:
            del self.services[service]

    # -- the two gateway handlers ------------------------------------------------------------

    def on_request(self, packet: Packet, _source: object) -> defer.Deferred[bytes]:
        return self._route(packet, cancel=False)

    def on_cancel(self, packet: Packet, _source: object) -> defer.Deferred[bytes]:
        return self._route(packet, cancel=True)

    def _route(self, packet: Packet, *, cancel: bool) -> defer.Deferred[bytes]:
        try:
            handler, request = self._handler(packet, cancel=cancel)
        except Refused:
            return defer.fail()
        answer: defer.Deferred[bytes] = defer.maybeDeferred(handler, request)
        return answer.addErrback(_as_refusal)

    def _handler(self, packet: Packet, *, cancel: bool) -> tuple[ServiceHandler, ServiceRequest]:
        payload = decode_payload(packet)
        service, customer_id = payload["service"], payload["customer_id"]
        handlers = self.services.get(service)
        if handlers is None:
            raise Refused(f"service {strict_json.show_text(service)} is not offered here")
        request = ServiceRequest(packet=packet, service=service, customer_id=customer_id, payload=payload)
        if customer_id == packet.creator_id:
            handler = handlers.cancel if cancel else handlers.request
        elif cancel and customer_id in self.gateway.my_ids():
            handler = handlers.dropped
        else:
            raise Refused("bad request: 'customer_id' is not the sender of the packet")
        if handler is None:
            raise Refused(f"{service} does not take {packet.command} here")
        return handler, request


def _as_refusal(failure: Failure) -> Failure:
    """A domain error of a handler is the peer's answer: a Fail with its message."""
    if failure.check(BitDustError) and not failure.check(Refused):
        error = failure.value
        assert isinstance(error, BitDustError)
        raise Refused(error.message)
    return failure
