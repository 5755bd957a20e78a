"""The benchmark processes' listening helpers: a factory of any protocol listens, its port is read back."""

from __future__ import annotations

import io

import pytest
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.testing import MemoryReactor
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.test.requesthelper import DummyRequest

from bitdust.bench.listening import listen_tcp, port_number
from bitdust.bench.quiet_site import QuietSite


class _Quiet(Protocol):
    pass


class _Factory(ServerFactory):
    protocol = _Quiet


class _Port:
    def __init__(self, address: object) -> None:
        self.address = address

    def getHost(self) -> object:  # noqa: N802 - IListeningPort
        return self.address


def test_a_factory_of_any_protocol_and_a_site_listen_on_a_free_loopback_port() -> None:
    reactor = MemoryReactor()
    listen_tcp(reactor, _Factory())
    listen_tcp(reactor, QuietSite(Resource()), interface="127.0.0.1")
    assert [(port, interface) for port, _factory, _backlog, interface in reactor.tcpServers] == [
        (0, "127.0.0.1"),
        (0, "127.0.0.1"),
    ]


def test_the_port_number_is_the_listening_address_port() -> None:
    assert port_number(_Port(IPv4Address("TCP", "127.0.0.1", 4321))) == 4321


def test_a_listener_that_is_not_tcp_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="TCP/IPv4"):
        port_number(_Port(UNIXAddress("/tmp/socket")))


def _logged(site: Site) -> bytes:
    """What ``site`` writes to its access log for one GET."""
    buffer = io.BytesIO()
    site.logFile = buffer
    request = DummyRequest([b"ping"])
    request.method, request.uri, request.clientproto, request.code, request.sentLength = (
        b"GET",
        b"/ping",
        b"HTTP/1.1",
        200,
        0,
    )
    site.log(request)
    return buffer.getvalue()


def test_the_quiet_site_writes_no_access_log_line_where_a_plain_site_does() -> None:
    assert b"GET /ping" in _logged(Site(Resource()))
    assert _logged(QuietSite(Resource())) == b""
