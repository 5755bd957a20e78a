"""The factory of the TCP pool's connections, and the first refusals a new connection meets.

An incoming connection is refused before any byte is read when the pool is full or its address is
refused for bad packets (:mod:`bitdust.transport.penalties`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet.protocol import Factory

from bitdust.transport.tcp.connection import TcpConnection

if TYPE_CHECKING:
    from twisted.internet.interfaces import IAddress

    from bitdust.transport.tcp.connections import TcpTransport


class ConnectionFactory(Factory[TcpConnection]):
    """Builds the pool's connections; refuses incoming ones over the limit or from refused addresses."""

    def __init__(self, owner: TcpTransport, direction: str, expected_peer: str | None = None) -> None:
        self.owner = owner
        self.direction = direction
        self.expected_peer = expected_peer

    def buildProtocol(self, addr: IAddress | None) -> TcpConnection | None:  # noqa: N802 (Twisted API)
        if self.direction == "in" and len(self.owner.connections) >= self.owner.max_connections:
            self.owner.log.warn("refusing tcp connection from {addr}: too many connections", addr=addr)
            return None
        if self.direction == "in" and self.owner.penalties.is_refused(getattr(addr, "host", "")):
            self.owner.refused_connections += 1
            return None
        return TcpConnection(self.owner, self.direction, expected_peer=self.expected_peer)
