"""A TcpTransport accepting on a port its owner listens on (service_tcp_connections' child service)."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort
from twisted.internet.testing import MemoryReactorClock
from zope.interface import implementer

from bitdust.transport.tcp.connections import TcpConnection, TcpTransport


@implementer(IListeningPort)
class OwnedPort:
    def __init__(self) -> None:
        self.stopped = 0

    def startListening(self) -> None:  # noqa: N802 - Twisted interface
        pass

    def stopListening(self) -> None:  # noqa: N802 - Twisted interface
        self.stopped += 1

    def getHost(self) -> IPv4Address:  # noqa: N802 - Twisted interface
        return IPv4Address("TCP", "127.0.0.1", 40404)


def _transport(reactor: MemoryReactorClock) -> TcpTransport:
    return TcpTransport(
        reactor, on_packet=lambda data, conn: None, on_peer_closed=lambda idurl, how: None, max_packet=1 << 20
    )


def test_the_incoming_factory_builds_incoming_connections() -> None:
    transport = _transport(MemoryReactorClock())
    conn = transport.incoming_factory().buildProtocol(IPv4Address("TCP", "127.0.0.1", 5000))
    assert isinstance(conn, TcpConnection) and conn.direction == "in"


def test_a_served_port_is_reported_and_left_to_its_owner() -> None:
    reactor = MemoryReactorClock()
    transport = _transport(reactor)
    port = OwnedPort()
    transport.serve_on(port)
    assert transport.listening_port == 40404
    ensured: list[object] = []
    transport.ensure_listening().addCallback(ensured.append)
    assert ensured == [40404] and reactor.tcpServers == []  # no second socket
    stopped: list[object] = []
    transport.stop().addCallback(stopped.append)
    assert stopped == [None] and port.stopped == 0 and transport.listening_port is None
