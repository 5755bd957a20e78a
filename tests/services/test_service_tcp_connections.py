"""service_tcp_connections: its listening port is a child service; the transport accepts on it."""

from __future__ import annotations

import types
from pathlib import Path

from twisted.internet import error
from twisted.internet.testing import MemoryReactorClock

from bitdust.main.service_framework.service_children import ListeningService
from bitdust.services.service_tcp_connections import TcpConnectionsService
from bitdust.transport.tcp.connections import TcpTransport
from tests.services.helpers import fake_engine, managed, settle


def _engine(tmp_path: Path, reactor: MemoryReactorClock) -> types.SimpleNamespace:
    hub = types.SimpleNamespace(inbox=lambda data, conn: None, peer_closed=lambda idurl, how: None, tcp=None)
    return fake_engine(
        tmp_path,
        reactor,
        p2p=hub,
        identity_cache=types.SimpleNamespace(get=lambda idurl: None),
        keys=types.SimpleNamespace(master=lambda: None),
        local_identity=types.SimpleNamespace(current=None),
    )


def test_the_port_is_a_child_and_the_transport_accepts_on_it(tmp_path: Path) -> None:
    reactor = MemoryReactorClock()
    service = TcpConnectionsService(_engine(tmp_path, reactor))
    manager = managed(service, tmp_path, reactor)
    service.engine.config.set("services/tcp-connections/tcp-port", 7788)
    assert settle(manager.start("service_tcp_connections"), reactor)["state"] == "ON"
    transport = service.engine.p2p.tcp
    assert isinstance(transport, TcpTransport) and transport.listening_port == 7788
    [(port, factory, _backlog, interface)] = reactor.tcpServers
    assert (port, interface) == (7788, "")
    assert factory.buildProtocol(None).direction == "in"
    [child] = list(service)
    assert isinstance(child, ListeningService) and child.running
    settle(manager.stop("service_tcp_connections"), reactor)
    assert service.engine.p2p.tcp is None and list(service) == [] and not child.running
    assert transport.listening_port is None


def test_a_port_in_use_fails_the_start_with_the_port_named(tmp_path: Path) -> None:
    reactor = MemoryReactorClock()

    def refuse(port: int, factory: object, backlog: int = 50, interface: str = "") -> None:
        raise error.CannotListenError(interface, port, OSError("address already in use"))

    reactor.listenTCP = refuse  # type: ignore[method-assign]
    service = TcpConnectionsService(_engine(tmp_path, reactor))
    manager = managed(service, tmp_path, reactor)
    settle(manager.start("service_tcp_connections"), reactor)
    reason = manager.info("service_tcp_connections")["reason"]
    assert manager.state("service_tcp_connections") == "FAILED"
    assert "cannot listen on TCP port 7771" in reason and "address already in use" in reason
    assert service.engine.p2p.tcp is None and list(service) == []
