"""service_supplier: donate disk space to customers that ask for it with a ``RequestService``.

The supplier logic (the accounting, the checks, the customers' folders) is
:mod:`bitdust.supplier`; this module wires it: it opens the :class:`SupplierSpace` into
``engine.supplier``, adds the ``service_supplier`` handlers to the RequestService router of
:mod:`bitdust.p2p.service_requests`, notes when each customer was last heard from (a gateway
observer), attaches the node to DHT layer 3 (where customers look for suppliers) and says on the
event bus what happened to each customer (``new-customer-accepted``, ``new-customer-denied``,
``existing-customer-accepted``, ``existing-customer-denied``, ``existing-customer-terminated``).

Off by default, unlike the original (where every node was a supplier): a node donates space
when its owner (or the sandbox's supplier role) turns it on, so plain nodes are customers and
never show up on layer 3 as suppliers they did not mean to be.

Dropping a customer (``customer_reject``, the patrol) tells it with a ``CancelService`` carrying
the reason, so it replaces us at once, removes its data and frees its space.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.customer.refused_memory import RefusedMemory
from bitdust.dht.family_keeper import REPUBLISH_INTERVAL, FamilyKeeper
from bitdust.errors import BitDustError, NotFound, Refused
from bitdust.main import strict_json
from bitdust.main.errors import Unavailable
from bitdust.main.logs import log_failure
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Size
from bitdust.p2p import commands
from bitdust.p2p.service_requests import ServiceHandlers, ServiceRequest
from bitdust.services.node_service import NodeService
from bitdust.services.service_entangled_dht import SERVICE_NAME as DHT_SERVICE
from bitdust.services.service_entangled_dht import EntangledDhtService, dht_service
from bitdust.supplier.ledger import CustomerEntry
from bitdust.supplier.requests import SERVICE, check_family, parse_request
from bitdust.supplier.space import SupplierSpace

if TYPE_CHECKING:
    from bitdust.main.settings.config_watch import WatchHandle
    from bitdust.node.engine import NodeEngine

MB = 1024 * 1024
MIN_DONATED = 64 * MB
DEFAULT_DONATED = 8 * 1024 * MB
RECORD_NAME = "customers.json"
#: the folder under metadata/ of the customers' family records this supplier keeps
FAMILIES_FOLDER = "families"
#: how long a customer we rejected is refused when it asks again
REJECTED_TTL = 3600.0


def require_space(engine: NodeEngine) -> SupplierSpace:
    if engine.supplier is None:
        raise Unavailable("service_supplier is not running; start it with service_start")
    return engine.supplier


def tell_customer(engine: NodeEngine, idurl: str, reason: str) -> defer.Deferred[object]:
    """Send the customer our CancelService with ``reason`` (best effort: it may be offline)."""
    payload = strict_json.dumps({"service": SERVICE, "customer_id": idurl, "reason": reason})
    timeout = engine.config.get("services/gateway/p2p-timeout")

    def failed(failure: Failure) -> None:
        engine.log.info(
            "could not tell {idurl} it was dropped: {reason}", idurl=idurl, reason=failure.getErrorMessage()
        )

    d: defer.Deferred[Any]
    gateway = engine.p2p.gateway
    if gateway is None:  # the node is going offline: the customer learns it from the next request
        d = defer.fail(Unavailable("the gateway is not running"))
    else:
        d = gateway.send(commands.CANCEL_SERVICE, idurl, payload, timeout=timeout, retries=1)
    return d.addErrback(failed)


def _service(engine: NodeEngine) -> SupplierService | None:
    service = engine.services.get(SupplierService.name) if SupplierService.name in engine.services.names() else None
    return service if isinstance(service, SupplierService) else None


def drop_customer(
    engine: NodeEngine, idurl: str, reason: str, *, refuse: bool = False
) -> defer.Deferred[CustomerEntry]:
    """Drop a customer now: tell it why, remove its data, free its space (NotFound for a stranger).

    ``refuse`` (``customer_reject``): its requests are refused for :data:`REJECTED_TTL` seconds
    after, so a request already on its way cannot hire us back the moment we dropped it.
    """
    space = require_space(engine)
    service = _service(engine)
    if refuse and service is not None and service.rejected is not None and space.is_customer(idurl):
        service.rejected.remember(idurl, reason)

    def released(entry: CustomerEntry) -> CustomerEntry:
        engine.events.send(
            "existing-customer-terminated", {"idurl": entry.idurl, "global_id": entry.global_id, "reason": reason}
        )
        tell_customer(engine, entry.idurl, reason).addErrback(log_failure(engine.log, "telling a customer failed"))
        return entry

    return space.release(idurl).addCallback(released).addCallback(_forget_family, engine)


def _forget_family(entry: CustomerEntry, engine: NodeEngine) -> defer.Deferred[CustomerEntry]:
    """A customer gone is a family record no longer kept (best effort: the space is freed already)."""
    service = _service(engine)
    keeper = service.keeper if service is not None else None
    if keeper is None:
        return defer.succeed(entry)
    d = keeper.forget(entry.idurl)
    d.addErrback(log_failure(engine.log, "forgetting a family record failed"))
    return d.addCallback(lambda _: entry)


class SupplierService(NodeService):
    name = "service_supplier"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_p2p_hookups", "service_entangled_dht")
    layers = (3,)
    enabled_by_default = False
    description = "donates disk space to customers: answers their RequestService, keeps their data apart"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
        self._watch: WatchHandle | None = None
        self._handlers = ServiceHandlers(request=self.on_request, cancel=self.on_cancel)
        #: the family records of our customers, kept and published again (None while stopped)
        self.keeper: FamilyKeeper | None = None
        #: customers rejected lately (``customer_reject``): their requests are refused with the reason
        self.rejected: RefusedMemory | None = None

    def options(self) -> tuple[Option, ...]:
        return (
            Option(
                f"{self.config_prefix()}/donated-space",
                Size(min=MIN_DONATED),
                DEFAULT_DONATED,
                "disk space this node gives to its customers in all",
            ),
        )

    def donated(self) -> int:
        value: int = self.engine.config.get(f"{self.config_prefix()}/donated-space")
        return value

    def start(self) -> defer.Deferred[None]:
        engine = self.engine
        space = SupplierSpace(
            root=engine.paths.sub("customers"),
            record=engine.paths.metadata / RECORD_NAME,
            donated=self.donated(),
            run_blocking=engine.run_blocking,
            clock=engine.reactor.seconds,
        )

        dht = engine.services.get(DHT_SERVICE)
        assert isinstance(dht, EntangledDhtService), "service_supplier depends on service_entangled_dht"
        keeper = FamilyKeeper(
            engine.paths.metadata / FAMILIES_FOLDER,
            validator=dht.record_validator(),
            dht=lambda: dht.node,
            run_blocking=engine.run_blocking,
            log=engine.logger("bitdust.supplier"),
        )

        def republish() -> defer.Deferred[object]:
            d: defer.Deferred[Any] = keeper.republish()
            return d.addErrback(log_failure(engine.log, "republishing the family records failed"))

        def opened(_: object) -> None:
            self.keeper = keeper
            if self.rejected is None:  # kept across restarts of the service, not of the node
                self.rejected = RefusedMemory(engine.reactor, ttl=REJECTED_TTL)
            self.run_every(REPUBLISH_INTERVAL, republish, clock=engine.reactor)
            engine.supplier = space
            engine.p2p.require_service_requests().add(SERVICE, self._handlers)
            engine.p2p.require_gateway().observers.append(self.on_gateway)
            self._watch = engine.config.watch(f"{self.config_prefix()}/donated-space", self.on_donated)

        return space.open().addCallback(lambda _: keeper.load()).addCallback(opened)

    def stop(self) -> defer.Deferred[None] | None:
        engine = self.engine
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        hub = engine.p2p
        if hub.service_requests is not None:
            hub.service_requests.remove(SERVICE, self._handlers)
        if hub.gateway is not None and self.on_gateway in hub.gateway.observers:
            hub.gateway.observers.remove(self.on_gateway)
        self.keeper = None
        space, engine.supplier = engine.supplier, None
        return space.save_if_touched() if space is not None else None

    # -- what the network tells us -----------------------------------------------------------

    def on_gateway(self, event: str, idurl: str, _detail: object) -> None:
        if event == "inbox-packet" and self.engine.supplier is not None:
            self.engine.supplier.touch(idurl)

    def on_donated(self, _key: str, value: object, _old: object) -> None:
        if self.engine.supplier is not None and isinstance(value, int):
            self.engine.supplier.set_donated(value)

    def on_request(self, request: ServiceRequest) -> defer.Deferred[bytes]:
        """Accept the customer with its allocation, or refuse naming why; a refusal changes nothing."""
        engine = self.engine
        space = require_space(engine)
        known = space.is_customer(request.sender)

        def checked(_family: object) -> defer.Deferred[tuple[CustomerEntry, bool]]:
            return space.allocate(supply)

        def keep_family(result: tuple[CustomerEntry, bool]) -> defer.Deferred[tuple[CustomerEntry, bool]]:
            """The accepted customer's record is kept (checked again, not older than the copy) before the Ack."""
            keeper, family = self.keeper, supply.family
            if keeper is None or family is None:
                return defer.succeed(result)
            d: defer.Deferred[Any] = keeper.remember(family, request.sender)
            d.addErrback(log_failure(engine.log, "keeping a customer's family record failed"))

            def still_ours(_: object) -> defer.Deferred[tuple[CustomerEntry, bool]]:
                # Dropped while the copy was being written (customer_reject raced the request):
                # the record goes with the customer, as it would have after.
                if space.is_customer(request.sender):
                    return defer.succeed(result)
                return keeper.forget(request.sender).addCallback(lambda _: result)

            return d.addCallback(still_ours)

        def accepted(result: tuple[CustomerEntry, bool]) -> bytes:
            entry, renewed = result
            event = "existing-customer-accepted" if renewed else "new-customer-accepted"
            engine.events.send(
                event,
                {
                    "idurl": entry.idurl,
                    "global_id": entry.global_id,
                    "allocated_bytes": entry.allocated,
                    "ecc_map": entry.ecc_map,
                    "position": entry.position,
                },
            )
            return strict_json.dumps({"result": "accepted", "allocated_bytes": entry.allocated})

        def denied(failure: Failure) -> Failure:
            reason = failure.value.message if isinstance(failure.value, BitDustError) else failure.getErrorMessage()
            event = "existing-customer-denied" if known else "new-customer-denied"
            engine.events.send(event, {"idurl": request.sender, "reason": reason})
            return failure

        rejected = self.rejected.reason(request.sender) if self.rejected is not None else None
        if rejected is not None:
            return defer.fail(Refused(f"customer rejected: {rejected}")).addErrback(denied)
        try:
            supply = parse_request(request.payload, request.sender)
        except BitDustError:
            return defer.fail().addErrback(denied)
        dht = dht_service(engine)
        check = dht.node.validator.validate if dht is not None and dht.node is not None else None
        d = check_family(supply, check).addCallback(checked).addCallback(keep_family)
        return d.addCallbacks(accepted, denied)

    def on_cancel(self, request: ServiceRequest) -> defer.Deferred[bytes]:
        """The customer leaves: free its allocation and remove its data."""
        engine = self.engine
        space = require_space(engine)
        if not space.is_customer(request.sender):
            return defer.fail(NotFound("not a customer of this supplier"))

        def released(entry: CustomerEntry) -> bytes:
            engine.events.send(
                "existing-customer-terminated",
                {"idurl": entry.idurl, "global_id": entry.global_id, "reason": "cancelled by the customer"},
            )
            return strict_json.dumps({"result": "cancelled"})

        return space.release(request.sender).addCallback(_forget_family, engine).addCallback(released)


def supplier_payload(entry: CustomerEntry) -> dict[str, Any]:
    """The stored facts of one customer, as the API shows them in verbose lists."""
    return {
        "allocated": entry.allocated,
        "used": entry.used,
        "since": entry.since,
        "last_seen": entry.last_seen,
        "ecc_map": entry.ecc_map,
        "position": entry.position,
    }
