"""service_tcp_transport: lets the gateway send over TCP and publishes ``tcp://host:port`` in our identity."""

from __future__ import annotations

from bitdust.services.node_service import NodeService


class TcpTransportService(NodeService):
    name = "service_tcp_transport"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_tcp_connections", "service_gateway")
    description = "the TCP transport of the gateway"

    def start(self) -> None:
        hub = self.engine.p2p
        hub.require_gateway().add_transport(hub.require_tcp())
        # The connector's check publishes our contacts; run it now that there is something to publish.
        hub.reconnect()

    def stop(self) -> None:
        gateway = self.engine.p2p.gateway
        if gateway is not None:
            gateway.remove_transport("tcp")
