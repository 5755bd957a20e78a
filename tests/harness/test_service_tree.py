"""In a running network, each engine's services hold their ports and timers as Twisted children."""

from __future__ import annotations

from typing import Any

from twisted.application.service import IService

from bitdust.main.service_framework.service_children import IntervalService, ListeningService, OpenedPortService
from bitdust.testing.network import Network


def children(engine: Any, name: str) -> list[IService]:
    return list(engine.services.getServiceNamed(name))


def test_ports_and_timers_are_children_of_their_running_services(network: Network) -> None:
    node = network.nodes[0].engine
    assert node is not None
    assert all(service.running == node.services.is_on(service.name) for service in node.services)
    [tcp] = children(node, "service_tcp_connections")
    assert isinstance(tcp, ListeningService) and tcp.port is not None
    assert tcp.port.getHost().port == node.p2p.tcp.listening_port
    [udp] = children(node, "service_entangled_dht")
    dht = node.services.getServiceNamed("service_entangled_dht")
    assert isinstance(udp, OpenedPortService) and udp.port is dht.port and udp.port.getHost().port == dht.udp_port
    [timer] = children(node, "service_identity_propagate")
    assert isinstance(timer, IntervalService) and timer.running
    server = network.id_servers[0].engine
    assert server is not None
    [http] = children(server, "service_identity_server")
    web = server.services.getServiceNamed("service_identity_server")
    assert isinstance(http, ListeningService) and http.port is web.port and web.web_port is not None
