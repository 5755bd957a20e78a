"""service_customer: this node hires a family of suppliers for its data and keeps it whole.

The machines are :mod:`bitdust.customer` (``fire_hire``, ``supplier_finder``, one
``supplier_connector`` per supplier); this service builds their real collaborators
(:mod:`bitdust.services.customer_parts`), restores the family kept in ``metadata/family.json`` so
a restarted customer asks the same suppliers again instead of hiring new ones, holds
``fire_hire`` in ``engine.fire_hire``, and takes the ``dropped`` role of ``service_supplier`` in
the RequestService router: a supplier's own CancelService (it rejected us) reaches the connector
of that supplier, which makes ``fire_hire`` replace it. Each change of the options fire_hire
reads is a ``reconsider``.

The original splits this into ``service_customer`` and ``service_employer``; here one service
owns both option groups (``services/customer/...``, ``services/employer/...``), since neither half
runs without the other. Off by default: the sandbox and the owner turn a node into a customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.customer import service_packets
from bitdust.customer.collaborators import Family
from bitdust.customer.fire_hire import FireHire, Settings
from bitdust.customer.options import (
    CANDIDATES_KEY,
    HIRE_RETRY_KEY,
    NEEDED_SPACE_KEY,
    OFFLINE_SECONDS_KEY,
    SUPPLIERS_NUMBER_KEY,
    customer_options,
    employer_options,
)
from bitdust.customer.refused_memory import RefusedMemory
from bitdust.customer.supplier_finder import SupplierFinder
from bitdust.errors import NotFound, Unavailable
from bitdust.main import strict_json
from bitdust.main.settings.config_options import Option
from bitdust.p2p.service_requests import ServiceHandlers, ServiceRequest
from bitdust.services.customer_parts import (
    ContactsWatcher,
    DhtLiveNodes,
    GatewayRequester,
    LocalFamilyStore,
)
from bitdust.services.node_service import NodeService

if TYPE_CHECKING:
    from bitdust.main.settings.config_watch import WatchHandle
    from bitdust.node.engine import NodeEngine

#: How long a refused or fired supplier is not offered again.
REFUSED_TTL = 600.0
WATCHED = (SUPPLIERS_NUMBER_KEY, NEEDED_SPACE_KEY, CANDIDATES_KEY, OFFLINE_SECONDS_KEY, HIRE_RETRY_KEY)


def require_fire_hire(engine: NodeEngine) -> FireHire:
    if engine.fire_hire is None or engine.fire_hire.destroyed:
        raise Unavailable("service_customer is not running; start it with service_start")
    return engine.fire_hire


class CustomerService(NodeService):
    name = "service_customer"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_p2p_hookups", "service_entangled_dht")
    enabled_by_default = False
    description = "hires N suppliers at stable positions, keeps them connected, publishes the family record"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
        self._watches: list[WatchHandle] = []
        self._handlers = ServiceHandlers(dropped=self.on_dropped)
        self.store: LocalFamilyStore | None = None

    def options(self) -> tuple[Option, ...]:
        return (*customer_options(), *employer_options())

    def start(self) -> defer.Deferred[None]:
        engine = self.engine
        me = engine.local_identity.current
        if me is None:
            return defer.fail(Unavailable("this node has no identity yet"))
        own_id = me.idurl.url
        store = self.store = LocalFamilyStore(engine, published=self.share_record)
        return store.load().addCallback(self._started, own_id, store)

    def _started(self, family: Family | None, own_id: str, store: LocalFamilyStore) -> None:
        engine = self.engine
        config = engine.config
        refused = RefusedMemory(engine.reactor, ttl=REFUSED_TTL)
        finder = SupplierFinder(
            own_id=own_id,
            candidates=lambda: config.get(CANDIDATES_KEY),
            dht=DhtLiveNodes(engine),
            refused=refused,
            clock=engine.reactor,
            registry=engine.automats,
            log=engine.logger("bitdust.customer"),
        )
        fire_hire = FireHire(
            own_id=own_id,
            settings=Settings(
                suppliers_number=lambda: config.get(SUPPLIERS_NUMBER_KEY),
                needed_bytes=lambda: config.get(NEEDED_SPACE_KEY),
                offline_seconds=lambda: float(config.get(OFFLINE_SECONDS_KEY)),
                hire_retry_delay=float(config.get(HIRE_RETRY_KEY)),
                request_timeout=float(config.get("services/gateway/p2p-timeout")) + 5.0,
            ),
            family=family,
            family_record=store.record,
            finder=finder,
            refused=refused,
            requester=GatewayRequester(engine),
            watcher=ContactsWatcher(engine),
            store=store,
            events=engine.events,
            clock=engine.reactor,
            registry=engine.automats,
            log=engine.logger("bitdust.customer"),
        )
        engine.fire_hire = fire_hire
        engine.p2p.require_service_requests().add(service_packets.SERVICE, self._handlers)
        self._watches = [config.watch(key, self.on_option) for key in WATCHED]
        fire_hire.start()

    def stop(self) -> None:
        engine = self.engine
        for handle in self._watches:
            handle.cancel()
        self._watches = []
        if engine.p2p.service_requests is not None:
            engine.p2p.service_requests.remove(service_packets.SERVICE, self._handlers)
        fire_hire, engine.fire_hire = engine.fire_hire, None
        if fire_hire is not None and not fire_hire.destroyed:
            fire_hire.stop()
        self.store = None

    # -- what changes ------------------------------------------------------------------------

    def on_option(self, _key: str, _new: object, _old: object) -> None:
        fire_hire = self.engine.fire_hire
        if fire_hire is not None and not fire_hire.destroyed:
            fire_hire.reconsider()

    def on_dropped(self, request: ServiceRequest) -> defer.Deferred[bytes]:
        """A supplier of ours dropped us (CancelService with a reason): its connector is ``rejected``."""
        fire_hire = require_fire_hire(self.engine)
        reason = service_packets.rejection_reason(request.packet.payload, own_id=request.customer_id)
        connector = fire_hire.connector_of(request.sender)
        if connector is None:
            return defer.fail(NotFound("not a supplier of this customer"))
        self.engine.log.info("supplier {idurl} dropped us: {reason}", idurl=request.sender, reason=reason)
        connector.rejected(reason=reason)
        return defer.succeed(strict_json.dumps({"result": "replacing"}))

    def share_record(self) -> None:
        """A new family record was published: hand it to every connected supplier (a renewed
        RequestService), so each keeps and republishes the newest one."""
        fire_hire = self.engine.fire_hire
        if fire_hire is None or fire_hire.destroyed:
            return
        requester = GatewayRequester(self.engine)
        for connector in list(fire_hire.connectors.values()):
            if connector.state != "CONNECTED":
                continue
            d = requester.request_service(connector.supplier_id, connector.make_request())
            d.addErrback(self._not_shared, connector.supplier_id)

    def _not_shared(self, failure: Failure, idurl: str) -> None:
        self.engine.log.info(
            "the new family record did not reach {idurl}: {reason}", idurl=idurl, reason=failure.getErrorMessage()
        )
