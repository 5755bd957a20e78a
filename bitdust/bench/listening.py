"""Listening on a free loopback port in a benchmark process, and which port that is (for its parent).

Twisted's ``Factory`` is invariant in the protocol it builds, so a ``Site`` (a factory of
``HTTPChannel``) or a ``ServerFactory[MyProtocol]`` does not type-check as the
``ServerFactory`` that ``listenTCP`` names, although each is one at run time:
:func:`listen_tcp` takes a factory of any protocol.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort, IReactorTCP
from twisted.internet.protocol import ServerFactory


def listen_tcp(reactor: IReactorTCP, factory: ServerFactory[Any], interface: str = "127.0.0.1") -> IListeningPort:
    """Listen with ``factory`` on a free port of ``interface``."""
    return reactor.listenTCP(0, factory, interface=interface)


def port_number(port: IListeningPort) -> int:
    """The TCP port ``port`` listens on; TypeError for anything but a TCP/IPv4 listener."""
    address = port.getHost()
    if not isinstance(address, IPv4Address):
        raise TypeError(f"expected a TCP/IPv4 listening port, got {address!r}")
    return address.port
