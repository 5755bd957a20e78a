"""API methods of the family record: a customer's signed list of suppliers, read from the DHT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.dht.family_record import FamilyRecord, FamilyRecords
from bitdust.interface.api.spec import api_method
from bitdust.main.errors import Conflict, NotFound, Unavailable
from bitdust.services.service_entangled_dht import dht_service
from bitdust.userid.idurl import parse_user_ref

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine


def _families(engine: NodeEngine) -> FamilyRecords:
    service = dht_service(engine)
    families = service.families if service is not None else None
    if families is None:
        raise Unavailable("service_entangled_dht is not running; start it with service_start")
    return families


def _customer(engine: NodeEngine, customer_id: str | None) -> str:
    """The IDURL of ``customer_id`` (an IDURL or a global id); ourselves when it is not given."""
    if customer_id is None or customer_id == "":
        me = engine.local_identity.current
        if me is None:
            raise Conflict("this node has no identity yet: name the customer_id")
        return me.idurl.url
    return engine.identity_cache.resolve(parse_user_ref(customer_id)).url


@api_method(
    "GET",
    "supplier/list/dht/v1",
    params={"customer_id": "the customer (IDURL or name@host); default: this node"},
    answers=(404, 409, 503),
)
def suppliers_dht_lookup(engine: NodeEngine, customer_id: str | None = None) -> defer.Deferred[dict[str, Any]]:
    """The customer's family as its signed DHT record says: suppliers by position, ECC map, revision.

    Only a record signed by the customer's own key, passing every rule of the record and not
    older than the newest this node has seen, is answered; none: 404.
    """
    families = _families(engine)
    customer = _customer(engine, customer_id)

    def answer(found: FamilyRecord | None) -> dict[str, Any]:
        if found is None:
            raise NotFound(f"no family record of {customer} in the DHT")
        return found.to_json()

    return families.lookup(customer).addCallback(answer)
