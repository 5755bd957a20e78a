"""The real collaborators of the customer side's machines, built over a running node's parts.

``bitdust.customer`` knows the node only through the narrow types of
:mod:`bitdust.customer.collaborators`; this module (at the bottom of the layer order, where it
may name the gateway, the contact statuses and the DHT) is what ``service_customer`` passes
them: the gateway as a :class:`~bitdust.customer.collaborators.SupplierRequester`, the contact
statuses as a :class:`~bitdust.customer.collaborators.ContactWatcher`, the DHT node as
:class:`~bitdust.customer.supplier_finder.LiveNodes` and the local file plus the signed DHT
record as the :class:`~bitdust.customer.collaborators.FamilyStore`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.customer import service_packets
from bitdust.customer.collaborators import Family, ServiceRequest
from bitdust.customer.errors import SupplierRefused
from bitdust.errors import InvalidInput, Malformed, Unavailable
from bitdust.main import strict_json
from bitdust.p2p import commands
from bitdust.p2p.errors import DeliveryFailed
from bitdust.p2p.packet import Packet
from bitdust.services.service_entangled_dht import dht_service

if TYPE_CHECKING:
    from bitdust.dht.lookup import Responder
    from bitdust.dht.republish import StoreOutcome
    from bitdust.node.engine import NodeEngine

FAMILY_FILE = "family.json"


class GatewayRequester:
    """RequestService and CancelService of ``service_supplier`` through the node's gateway."""

    def __init__(self, engine: NodeEngine) -> None:
        self.engine = engine

    def _send(self, command: str, supplier_id: str, payload: bytes) -> defer.Deferred[Packet | None]:
        gateway = self.engine.p2p.gateway
        if gateway is None:
            return defer.fail(Unavailable("the gateway is not running"))
        timeout = self.engine.config.get("services/gateway/p2p-timeout")
        return gateway.send(command, supplier_id, payload, timeout=timeout, retries=1)

    def request_service(self, supplier_id: str, request: ServiceRequest, /) -> defer.Deferred[int]:
        """Fires with the Ack's allocated bytes; SupplierRefused with the supplier's own Fail text."""
        d = self._send(commands.REQUEST_SERVICE, supplier_id, service_packets.request_payload(request))

        def answered(ack: Packet | None) -> int:
            if ack is None:
                raise Malformed(f"{supplier_id} answered RequestService without a payload")
            return service_packets.allocated_bytes(ack.payload)

        def failed(failure: Failure) -> Failure:
            error = failure.value
            if isinstance(error, DeliveryFailed) and error.reason == "failed" and error.detail is not None:
                raise SupplierRefused(supplier_id, error.detail)
            return failure

        return d.addCallbacks(answered, failed)

    def cancel_service(self, supplier_id: str, customer_id: str, /) -> defer.Deferred[None]:
        d = self._send(commands.CANCEL_SERVICE, supplier_id, service_packets.cancel_payload(customer_id))
        return d.addCallback(lambda _ack: None)


class ContactsWatcher:
    """Presence of peers as the contact statuses of ``service_p2p_hookups`` know it.

    A peer is online in ``CONNECTED``; ``PING`` (a connection broke, we are checking) is neither a
    change to online nor to offline, so a supplier is not dropped for a reconnect.
    """

    def __init__(self, engine: NodeEngine) -> None:
        self.engine = engine

    def is_known(self, idurl: str, /) -> bool:
        return self.engine.identity_cache.get(idurl) is not None

    def is_online(self, idurl: str, /) -> bool:
        contacts = self.engine.p2p.contacts
        return contacts is not None and contacts.state(idurl) == "CONNECTED"

    def offline_since(self, idurl: str, /) -> float | None:
        contacts = self.engine.p2p.contacts
        status = contacts.find(idurl) if contacts is not None else None
        if status is None or status.state != "OFFLINE":
            return None
        return status.since

    def watch(self, idurl: str, callback: Callable[[str, bool], object], /) -> Callable[[], None]:
        contacts = self.engine.p2p.contacts
        if contacts is None:
            return lambda: None

        def changed(peer: str, _old: str, new: str) -> None:
            if new == "CONNECTED":
                callback(peer, True)
            elif new == "OFFLINE":
                callback(peer, False)

        return contacts.watch(idurl, changed)


class DhtLiveNodes:
    """Random live nodes of a DHT layer from the running DHT node (Unavailable while it is off)."""

    def __init__(self, engine: NodeEngine) -> None:
        self.engine = engine

    def random_nodes(self, layer: int, count: int, attempts: int = 3) -> defer.Deferred[list[Responder]]:
        service = dht_service(self.engine)
        if service is None or service.node is None:
            return defer.fail(Unavailable("the DHT is not running: no suppliers can be looked up"))
        return service.node.random_nodes(layer, count, attempts)


def read_family(path: Path) -> Family | None:
    """Blocking: the family kept in ``path`` (None when there is none or it is unreadable)."""
    try:
        value = strict_json.loads(path.read_bytes())
        if not isinstance(value, dict):
            return None
        suppliers = value.get("suppliers")
        ecc_map, revision = value.get("ecc_map"), value.get("revision")
        if not isinstance(ecc_map, str) or not isinstance(suppliers, list) or not isinstance(revision, int):
            return None
        if not all(isinstance(idurl, str) for idurl in suppliers) or isinstance(revision, bool):
            return None
        return Family(ecc_map, tuple(suppliers), revision)
    except (OSError, ValueError, strict_json.NotStrictJson, KeyError, InvalidInput):
        # A file we cannot trust is no family: the customer hires anew rather than not starting.
        return None


def write_family(path: Path, family: Family) -> None:
    """Blocking: replace ``path`` with ``family`` atomically (a crash leaves the old or the new one)."""
    from bitdust.main.process.fileutil import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, strict_json.dumps(family.to_json()))


class LocalFamilyStore:
    """The family on disk (``metadata/family.json``) and as our signed record on the DHT.

    ``save`` writes the file first (a restarted customer keeps its family even when the DHT was
    unreachable), then publishes the record through the DHT service's ``FamilyRecords``;
    ``published`` is told after each publication, so the service can hand the new record to the
    suppliers. ``record()`` is the newest signed record of ours, for the RequestService.
    """

    def __init__(self, engine: NodeEngine, *, published: Callable[[], object] = lambda: None) -> None:
        self.engine = engine
        self.path = engine.paths.metadata / FAMILY_FILE
        self.published = published

    def load(self) -> defer.Deferred[Family | None]:
        return self.engine.run_blocking(read_family, self.path)

    def _own_id(self) -> str | None:
        me = self.engine.local_identity.current
        return me.idurl.url if me is not None else None

    def record(self) -> dict[str, object] | None:
        """Our newest signed family record this node published or read (None before the first)."""
        service, own = dht_service(self.engine), self._own_id()
        if service is None or service.families is None or own is None:
            return None
        seen = service.families.seen(own)
        return dict(seen.record) if seen is not None else None

    def save(self, family: Family, /) -> defer.Deferred[None]:
        d = self.engine.run_blocking(write_family, self.path, family)
        return d.addCallback(lambda _: self._publish(family))

    def _publish(self, family: Family) -> defer.Deferred[None] | None:
        service, own = dht_service(self.engine), self._own_id()
        master = self.engine.keys.master()
        if service is None or service.families is None or own is None or master is None:
            self.engine.log.info("the family record waits: the DHT or our key is not ready")
            return None
        if not any(family.suppliers):
            return None
        d = service.families.publish(own, family.ecc_map, family.suppliers, family.revision, master.key)

        def done(outcome: StoreOutcome) -> None:
            if outcome.success:
                self.published()
            else:
                self.engine.log.info("the family record revision {revision} was not stored", revision=family.revision)

        return d.addCallback(done)
