"""service_p2p_hookups: who is online, pings, and identity documents exchanged between peers.

An ``Identity`` packet carries the sender's current signed document: it is our ping (the peer
answers Ack) and how peers learn that our identity changed. Every verified packet and every failed
delivery feeds the per-peer contact_status machines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Float
from bitdust.p2p import commands
from bitdust.p2p.contacts import ContactStatuses
from bitdust.p2p.gateway import Refused
from bitdust.p2p.packet import Packet
from bitdust.p2p.service_requests import ServiceRequests
from bitdust.services.node_service import NodeService
from bitdust.userid.errors import IdentityError
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import ACCEPTED

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine

IDENTITY_EVENTS = ("local-identity-modified", "my-identity-rotated", "local-identity-set")
MAX_REMEMBERED_DOCUMENTS = 10_000


def ping(engine: NodeEngine, idurl: str, *, timeout: float, retries: int) -> defer.Deferred[Packet | None]:
    """Send our identity to ``idurl`` and fire with its Ack (DeliveryFailed otherwise)."""
    gateway = engine.p2p.require_gateway()
    me = engine.local_identity.current
    payload = me.to_xml().encode("utf-8") if me is not None else b""
    return gateway.send(commands.IDENTITY, idurl, payload, timeout=timeout, retries=retries)


class P2PHookupsService(NodeService):
    name = "service_p2p_hookups"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_gateway", "service_identity_propagate", "service_tcp_transport")
    description = "contact status of peers, user_ping, and identity updates sent to connected peers"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
        #: the identity document each sender's last accepted Identity packet carried, as bytes
        self._accepted_documents: dict[str, bytes] = {}

    def options(self) -> tuple[Option, ...]:
        return (
            Option(
                f"{self.config_prefix()}/check-timeout",
                Float(min=0.1, max=600),
                10.0,
                "seconds an automatic check of a peer (after a lost connection) may take",
            ),
        )

    def start(self) -> None:
        engine = self.engine
        hub = engine.p2p
        self._accepted_documents.clear()
        gateway = hub.require_gateway()

        def report(idurl: str, old: str, new: str) -> None:
            engine.events.send("contact-status-changed", {"idurl": idurl, "old_state": old, "new_state": new})

        hub.contacts = ContactStatuses(
            clock=engine.reactor,
            pinger=lambda idurl, timeout: ping(engine, idurl, timeout=timeout, retries=1),
            report=report,
            automats=engine.automats,
            log=engine.logger("bitdust.contacts"),
            ping_timeout=engine.config.get(f"{self.config_prefix()}/check-timeout"),
        )
        gateway.observers.append(hub.contacts.on_gateway)
        gateway.register(commands.IDENTITY, self.on_identity)
        hub.service_requests = ServiceRequests(gateway)
        hub.service_requests.attach()
        engine.events.subscribe(self.on_event)

    def stop(self) -> None:
        engine = self.engine
        hub = engine.p2p
        engine.events.unsubscribe(self.on_event)
        if hub.gateway is not None:
            hub.gateway.unregister(commands.IDENTITY)
            if hub.service_requests is not None:
                hub.service_requests.detach()
            if hub.contacts is not None and hub.contacts.on_gateway in hub.gateway.observers:
                hub.gateway.observers.remove(hub.contacts.on_gateway)
        hub.service_requests = None
        contacts, hub.contacts = hub.contacts, None
        if contacts is not None:
            contacts.destroy()

    # -- Identity packets ---------------------------------------------------------------------

    def on_identity(self, packet: Packet, _source: Any) -> defer.Deferred[bytes] | bytes:
        """The sender's document: parse and verify it in a worker thread, then offer it to the cache.

        Answered with Ack only when the cache holds it as current afterwards; every refusal is a
        Fail naming the reason, so the sender never believes we took a document we did not. The
        cache binds nothing from such a document (a peer does not vouch for names, its servers do):
        see :meth:`~bitdust.userid.identity_cache.IdentityCache.offer`. Pings repeat the same
        document; the exact bytes we accepted last time from this sender are not parsed again.
        """
        engine = self.engine
        if self._accepted_documents.get(packet.creator_id) == packet.payload:
            return b""

        def parse() -> Identity:
            try:
                return Identity.from_xml(packet.payload)
            except IdentityError as exc:
                raise Refused(f"bad identity document: {exc.message}") from None

        def check(identity: Identity) -> defer.Deferred[bytes]:
            sources = {source.url for source in identity.sources}
            if packet.creator_id not in sources:
                raise Refused("the identity in the packet is not the sender's")
            known = engine.identity_cache.get(packet.creator_id)
            if known is not None and known.public_key != identity.public_key:
                raise Refused("the identity in the packet has another key than the one we know")
            # from_xml checked the signature in the worker thread
            return engine.identity_cache.offer(identity, verified=True).addCallback(judged)

        def judged(result: tuple[str, str]) -> bytes:
            verdict, reason = result
            if verdict not in ACCEPTED:
                raise Refused(f"identity refused ({verdict}): {reason}")
            if len(self._accepted_documents) >= MAX_REMEMBERED_DOCUMENTS:
                self._accepted_documents.clear()
            self._accepted_documents[packet.creator_id] = packet.payload
            return b""

        return engine.run_blocking(parse).addCallback(check)

    # -- identity propagation -----------------------------------------------------------------

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("id") in IDENTITY_EVENTS:
            self.propagate()

    def propagate(self) -> defer.Deferred[Any]:
        """Send our new identity to every peer we are connected with; their caches update."""
        engine = self.engine
        hub = engine.p2p
        if hub.contacts is None or hub.gateway is None:
            return defer.succeed([])
        peers: set[str] = set(hub.contacts.connected())
        if hub.tcp is not None:
            peers.update(conn.peer for conn in hub.tcp.connections if conn.peer and conn.verified)
        timeout = engine.config.get("services/gateway/p2p-timeout")
        sends = []
        for idurl in sorted(peers):

            def failed(failure: Failure, idurl: str = idurl) -> None:
                engine.log.info(
                    "could not send our new identity to {idurl}: {reason}",
                    idurl=idurl,
                    reason=failure.getErrorMessage(),
                )

            sends.append(ping(engine, idurl, timeout=timeout, retries=1).addErrback(failed))
        if peers:
            engine.log.info("sending our new identity to {count} peers", count=len(peers))
        return defer.DeferredList(sends)
