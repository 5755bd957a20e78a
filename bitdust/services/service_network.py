"""service_network: the root of the network services; owns the network_connector machine."""

from __future__ import annotations

from bitdust.p2p.network_connector import NetworkConnector
from bitdust.services.node_service import NodeService


class NetworkService(NodeService):
    name = "service_network"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    description = "the node's online/offline state (network_connector) and network-wide options"

    def start(self) -> None:
        engine = self.engine
        hub = engine.p2p

        def report(state: str, reason: str) -> None:
            event = "node-connected" if state == "CONNECTED" else "node-disconnected"
            engine.events.send(event, {"network_connector_state": state, "reason": reason})

        hub.connector = NetworkConnector(
            check=hub.check,
            report=report,
            clock=engine.reactor,
            registry=engine.automats,
            log=engine.logger("bitdust.network"),
        )
        hub.connector.init()

    def stop(self) -> None:
        hub = self.engine.p2p
        connector, hub.connector = hub.connector, None
        if connector is not None:
            connector.destroy()
