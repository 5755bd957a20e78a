"""What the customer side's machines need of the node, as narrow types and the values they exchange.

The machines (``supplier_connector``, ``supplier_finder``, ``fire_hire``) know the gateway, the
contact statuses, the DHT, the family record and the event bus only through these ``Protocol``s,
so the services that wire them pass the real parts and the unit tests pass recording fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs
from twisted.internet import defer

from bitdust.raid.eccmap import eccmap


@attrs.frozen
class ServiceRequest:
    """What a RequestService for ``service_supplier`` asks (the shared wire payload, see ``payload``)."""

    customer_id: str
    needed_bytes: int
    ecc_map: str
    position: int
    family: dict[str, object] | None = None

    def payload(self) -> dict[str, object]:
        """The strict JSON object the packet carries."""
        return {
            "service": "service_supplier",
            "customer_id": self.customer_id,
            "needed_bytes": self.needed_bytes,
            "ecc_map": self.ecc_map,
            "position": self.position,
            "family": self.family,
        }


@attrs.frozen
class Family:
    """The customer's family as it stands: the ECC map, supplier IDURLs by position ("" for an empty
    one) and the revision, which grows by one with every change so a newer record always wins."""

    ecc_map: str
    suppliers: tuple[str, ...]
    revision: int = 0

    def __attrs_post_init__(self) -> None:
        if len(self.suppliers) != eccmap(self.ecc_map).suppliers:
            raise ValueError(
                f"{self.ecc_map} has {eccmap(self.ecc_map).suppliers} positions, not {len(self.suppliers)}"
            )

    def to_json(self) -> dict[str, object]:
        return {"ecc_map": self.ecc_map, "suppliers": list(self.suppliers), "revision": self.revision}


class SupplierRequester(Protocol):
    """Sends our service packets to one supplier (the gateway, in a node)."""

    def request_service(self, supplier_id: str, request: ServiceRequest, /) -> defer.Deferred[int]:
        """Send RequestService; fires with the allocated bytes of the supplier's Ack "accepted",
        fails with :class:`~bitdust.customer.errors.SupplierRefused` on its Fail, or with any other
        error when the supplier could not be reached."""
        ...

    def cancel_service(self, supplier_id: str, customer_id: str, /) -> defer.Deferred[None]:
        """Send CancelService, so the supplier frees what it allocated for us."""
        ...


class ContactWatcher(Protocol):
    """What we know of a peer's presence (the contact statuses, in a node)."""

    def is_known(self, idurl: str, /) -> bool:
        """We hold a verified identity of ``idurl``."""
        ...

    def is_online(self, idurl: str, /) -> bool:
        """The peer is believed online now."""
        ...

    def offline_since(self, idurl: str, /) -> float | None:
        """When the peer was last seen going offline (clock seconds), None while it is online."""
        ...

    def watch(self, idurl: str, callback: Callable[[str, bool], object], /) -> Callable[[], None]:
        """Call ``callback(idurl, online)`` on each change of the peer's presence; answers the call
        that stops watching."""
        ...


class FamilyStore(Protocol):
    """Keeps the family across restarts and publishes its signed record (the family record, in a node)."""

    def save(self, family: Family, /) -> defer.Deferred[None]:
        """Persist and publish ``family``; a failure is logged by the caller, the family stands."""
        ...


class EventSink(Protocol):
    """The node's event bus, as the machines use it."""

    def send(self, event_id: str, data: object = None, /) -> object:
        """Deliver one event to API clients and the event log."""
        ...
