"""The node's network pieces in one place: ``engine.p2p``.

The network services fill it in as they start (the connector, the gateway, the TCP transport, the
contact statuses) and empty it as they stop, so the API can always tell "not running" from "no
answer". The check the network connector runs lives here because it spans the pieces: every
transport listening, and our identity listing the contacts they really have.
"""

from __future__ import annotations

import socket
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.main.errors import Unavailable

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine
    from bitdust.p2p.contacts import ContactStatuses
    from bitdust.p2p.gateway import Gateway
    from bitdust.p2p.network_connector import NetworkConnector
    from bitdust.p2p.service_requests import ServiceRequests
    from bitdust.transport.tcp.connections import TcpTransport
    from bitdust.userid.identity import Identity


def _local_address_towards(host: str, port: int) -> str:
    """Blocking: the local IP the kernel would use to reach ``host`` (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((host, port))
        return probe.getsockname()[0]


class P2PPart:
    def attach(self, engine: NodeEngine) -> None:
        engine.network = P2PHub(engine)

    def load(self, engine: NodeEngine) -> None:
        """Nothing to read from disk: the network state is rebuilt on every start."""


class P2PHub:
    """What ``P2PPart`` holds: one per engine, in ``NodeEngine.network`` (offered as ``engine.p2p``)."""

    def __init__(self, engine: NodeEngine) -> None:
        self.engine = engine
        self.connector: NetworkConnector | None = None
        self.gateway: Gateway | None = None
        self.tcp: TcpTransport | None = None
        self.contacts: ContactStatuses | None = None
        #: the RequestService/CancelService router, while service_p2p_hookups runs
        self.service_requests: ServiceRequests | None = None
        self.dropped_without_gateway = 0
        self._contacts_lock = defer.DeferredLock()

    # -- access for the API ------------------------------------------------------------------------

    def require_gateway(self) -> Gateway:
        if self.gateway is None:
            raise Unavailable("service_gateway is not running (it needs an identity and service_network)")
        return self.gateway

    def require_contacts(self) -> ContactStatuses:
        if self.contacts is None:
            raise Unavailable("service_p2p_hookups is not running")
        return self.contacts

    def require_service_requests(self) -> ServiceRequests:
        if self.service_requests is None:
            raise Unavailable("service_p2p_hookups is not running")
        return self.service_requests

    def require_tcp(self) -> TcpTransport:
        if self.tcp is None:
            raise Unavailable("service_tcp_connections is not running")
        return self.tcp

    def require_connector(self) -> NetworkConnector:
        if self.connector is None:
            raise Unavailable("service_network is not running")
        return self.connector

    # -- wiring -------------------------------------------------------------------------------

    def inbox(self, data: bytes, source: Any) -> None:
        """Every transport delivers here; without a gateway there is nobody to verify, so drop."""
        if self.gateway is None:
            self.dropped_without_gateway += 1
            return
        self.gateway.inbox(data, source)

    def peer_closed(self, idurl: str, how: str) -> None:
        if self.contacts is not None:
            self.contacts.on_peer_closed(idurl, how)

    def reconnect(self) -> None:
        if self.connector is not None and not self.connector.destroyed:
            self.connector.reconnect()

    # -- the network check --------------------------------------------------------------------

    @defer.inlineCallbacks
    def check(self) -> Generator[defer.Deferred[Any], Any, None]:
        """Fires when every transport listens and our identity lists their contacts; fails with why not."""
        if self.gateway is None:
            raise Unavailable("the gateway is not running (no identity yet?)")
        if not self.gateway.transports:
            raise Unavailable("no transport is running")
        contacts = []
        if "tcp" in self.gateway.transports and self.tcp is not None:
            yield self.tcp.ensure_listening()
            host = yield self.contact_host()
            contacts.append(f"tcp://{host}:{self.tcp.listening_port}")
        yield self.publish_contacts(contacts)

    def contact_host(self) -> defer.Deferred[str]:
        """The host peers should dial: the option, else our address towards the identity servers."""
        configured = self.engine.config.get("services/tcp-connections/host")
        if configured:
            return defer.succeed(configured)
        interface = self.engine.config.get("services/tcp-connections/interface")
        if interface and interface != "0.0.0.0":
            return defer.succeed(interface)

        def detect() -> str:
            servers = self.engine.network_config().identity_servers
            for server in servers:
                try:
                    return _local_address_towards(server.host, server.http_port)
                except OSError:
                    continue
            return "127.0.0.1"

        return self.engine.run_blocking(detect)

    def publish_contacts(self, contacts: list[str]) -> defer.Deferred[Identity | None]:
        """Re-publish our identity when its contacts differ from ``contacts`` (one change at a time)."""
        from bitdust.userid.id_contacts import update_contacts

        engine = self.engine

        def run() -> defer.Deferred[Identity | None]:
            return update_contacts(
                local=engine.local_identity,
                keys=engine.keys,
                cache=engine.identity_cache,
                http_post=engine.http_post,
                run_blocking=engine.run_blocking,
                contacts=contacts,
            )

        def changed(identity: Identity | None) -> Identity | None:
            if identity is not None:
                engine.events.send(
                    "local-identity-modified",
                    {"idurl": identity.idurl.url, "contacts": list(identity.contacts), "revision": identity.revision},
                )
            return identity

        return engine.identity_lock.run(run).addCallback(changed)

    # -- reporting ----------------------------------------------------------------------------

    def connector_state(self) -> str:
        return self.connector.state if self.connector is not None else "OFF"

    def configuration(self) -> dict[str, Any]:
        engine = self.engine
        services = {}
        for name in (
            "service_network",
            "service_gateway",
            "service_tcp_connections",
            "service_tcp_transport",
            "service_p2p_hookups",
            "service_entangled_dht",
        ):
            if name in engine.services.names():
                services[name] = {"state": engine.services.state(name), "enabled": engine.services.is_enabled(name)}
        tcp = {
            key: engine.config.get(f"services/tcp-connections/{key}")
            for key in ("tcp-port", "interface", "host", "idle-timeout-seconds")
        }
        tcp["listening_port"] = self.tcp.listening_port if self.tcp is not None else None
        identity = engine.local_identity.current
        return {
            "services": services,
            "tcp": tcp,
            "gateway": {
                "p2p-timeout": engine.config.get("services/gateway/p2p-timeout"),
                "p2p-retries": engine.config.get("services/gateway/p2p-retries"),
                "transports": sorted(self.gateway.transports) if self.gateway is not None else [],
            },
            "identity_contacts": list(identity.contacts) if identity is not None else [],
            "network_connector_state": self.connector_state(),
        }
