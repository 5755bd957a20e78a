"""The TCP transport: one listening socket and at most one live connection per peer.

Packets are opaque bytes here; the gateway decodes and verifies them, and a verified packet never
changes where we send: anyone can replay a signed packet on a connection of their own. A connection
is *bound* to an IDURL (used for sending to it) only when the peer proved its key on that very
connection with an AUTH frame signed over our hello's nonce (:mod:`bitdust.transport.tcp.auth`), or
when we dialled the contact of that IDURL's identity ourselves. Until a peer is bound, sending to it
dials its own contact; a send that finds a proof from that peer still being checked waits for it
instead of dialling a second connection. The dialler sends its AUTH before any packet, so the side
that accepted has the proof before the peer's bytes pile up.

Each connection (:mod:`bitdust.transport.tcp.connection`) follows its own state machine, from the
hello to the proof to the close; this module is the pool around them: listening, dialling (one
attempt per peer, however many sends wait for it), binding, keeping one of two connections to the
same peer, and the traffic limits. What peers make us hold for unfinished frames and streams is
bounded by one :class:`ReceiveBudget` for the node (small for connections that proved nothing yet).

Two timeouts, two jobs: the frame layer's ``dead_timeout`` drops a connection that has been silent
(keepalive pings included) for too long, i.e. a dead peer; ``idle_close`` closes a healthy connection
that carried no packets for a while, with a GOODBYE saying so (:mod:`bitdust.transport.tcp.packets`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import attrs
from twisted.internet import defer, endpoints
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort, IReactorTCP, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.transport.bandwidth import TokenBucket
from bitdust.transport.errors import NotConnected
from bitdust.transport.penalties import AddressPenalties
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.address import PROTO, parse_address
from bitdust.transport.tcp.auth import Authenticator
from bitdust.transport.tcp.budget import BudgetLimits, ReceiveBudget
from bitdust.transport.tcp.connection import TcpConnection
from bitdust.transport.tcp.factory import ConnectionFactory

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall

__all__ = ["PROTO", "ConnectionFactory", "TcpConnection", "TcpTransport", "parse_address"]


def _port_number(port: IListeningPort) -> int:
    """The port a listening TCP socket is bound to (a TCP port's host is an IPv4Address)."""
    host = port.getHost()
    assert isinstance(host, IPv4Address)
    return host.port


@attrs.define(eq=False)
class _Dial:
    """One connection attempt to a peer and everyone waiting for it."""

    connecting: defer.Deferred[TcpConnection]
    waiters: list[defer.Deferred[TcpConnection]] = attrs.field(factory=list)


class TcpTransport:
    """Listening socket plus connection pool. ``on_packet(data, connection)`` gets every packet.

    ``on_peer_closed(idurl, how)`` is told when the last connection of a bound peer closes: ``how`` is
    the peer's GOODBYE reason ("idle", "shutdown", "duplicate"), ``"local"`` when we closed it, or
    ``"lost"`` when it broke without a word.
    """

    proto = PROTO

    def __init__(
        self,
        reactor: IReactorTCP,
        *,
        on_packet: Callable[[bytes, TcpConnection], object],
        on_peer_closed: Callable[[str, str], object] = lambda idurl, how: None,
        max_packet: int,
        idle_close: float | None = 300.0,
        keepalive: float | None = 30.0,
        dead_timeout: float | None = 120.0,
        connect_timeout: float = 10.0,
        max_garbage: int = 3,
        max_connections: int = 1000,
        receive_limit: int = 0,
        send_limit: int = 0,
        authenticator: Authenticator | None = None,
        budget: BudgetLimits | None = None,
        stall_timeout: float | None = 60.0,
        log: Logger | None = None,
        penalties: AddressPenalties | None = None,
    ) -> None:
        self.reactor = reactor
        #: the same reactor, as a clock (every reactor is both; adapting says so to the type checker)
        self.clock: IReactorTime = IReactorTime(reactor)
        self.on_packet = on_packet
        self.on_peer_closed = on_peer_closed
        self.max_packet = max_packet
        self.idle_close = idle_close
        self.keepalive = keepalive
        self.dead_timeout = dead_timeout
        self.connect_timeout = connect_timeout
        self.max_garbage = max_garbage
        self.max_connections = max_connections
        self.authenticator = authenticator
        self.stall_timeout = stall_timeout
        self.receive_budget = ReceiveBudget(budget or BudgetLimits(per_peer=max_packet + frames.MAX_BUFFER))
        self.log = log or Logger()
        self.local_idurl: Callable[[], str | None] = lambda: None
        self.connections: list[TcpConnection] = []
        self.violations = 0
        self.dropped_for_garbage = 0
        #: bad packets per peer address, across connections
        self.penalties = penalties if penalties is not None else AddressPenalties(self.clock)
        self.refused_connections = 0
        self.auth_refused = 0
        self._port: IListeningPort | None = None
        self._listen_on: tuple[int, str] | None = None
        #: The port was listened on by its owner (see serve_on), who also closes it.
        self._port_owned_elsewhere = False
        self._by_peer: dict[str, TcpConnection] = {}
        self._dialling: dict[str, _Dial] = {}
        self._stopping = False
        self.receive_bucket = TokenBucket(self.clock, receive_limit)
        self.send_bucket = TokenBucket(self.clock, send_limit)
        self._reading_paused: IDelayedCall | None = None

    # -- traffic limits -----------------------------------------------------------------------

    def received(self, size: int) -> None:
        """Over the receive limit every connection stops reading until the bucket is out of debt."""
        wait = self.receive_bucket.take(size)
        if wait <= 0 or self._reading_paused is not None:
            return
        for conn in self.connections:
            conn.pause_reading("throttle")
        self._reading_paused = self.clock.callLater(wait, self._resume_reading)

    def _resume_reading(self) -> None:
        self._reading_paused = None
        wait = self.receive_bucket.delay()
        if wait > 0:
            self._reading_paused = self.clock.callLater(wait, self._resume_reading)
            return
        for conn in self.connections:
            conn.resume_reading("throttle")

    def sent_chunk(self, size: int) -> float:
        return self.send_bucket.take(size)

    # -- listening ----------------------------------------------------------------------------

    @property
    def listening_port(self) -> int | None:
        return _port_number(self._port) if self._port is not None else None

    def listen(self, port: int, interface: str = "") -> defer.Deferred[int]:
        """Start listening (port 0 picks a free one); fires with the port."""
        if self._port is not None:
            return defer.succeed(_port_number(self._port))
        self._stopping = False
        self._listen_on = (port, interface)
        endpoint = endpoints.TCP4ServerEndpoint(self.reactor, port, interface=interface)

        def listening(listening_port: IListeningPort) -> int:
            self._port = listening_port
            return _port_number(listening_port)

        return endpoint.listen(ConnectionFactory(self, "in")).addCallback(listening)

    def incoming_factory(self) -> ConnectionFactory:
        """The factory of the connections peers open to us, for a port that its owner listens on.

        ``service_tcp_connections`` listens with it through a child service of its own (so that
        stopping the service closes the port), then hands the port over with :meth:`serve_on`.
        """
        return ConnectionFactory(self, "in")

    def serve_on(self, port: IListeningPort) -> None:
        """Accept on ``port``, listened on with :meth:`incoming_factory` by its owner.

        It is reported as :attr:`listening_port`; :meth:`stop` leaves closing it to that owner.
        """
        self._stopping = False
        self._port = port
        self._port_owned_elsewhere = True

    def ensure_listening(self) -> defer.Deferred[int]:
        """Listen again where :meth:`listen` was told to, if the socket is gone."""
        listening = self.listening_port
        if listening is not None:
            return defer.succeed(listening)
        if self._listen_on is None:
            raise RuntimeError("ensure_listening before listen")
        return self.listen(*self._listen_on)

    def stop(self) -> defer.Deferred[None]:
        """Stop listening, say goodbye on every connection and wait until all are closed."""
        self._stopping = True
        if self._reading_paused is not None and self._reading_paused.active():
            self._reading_paused.cancel()
        self._reading_paused = None
        waits: list[defer.Deferred[None]] = []
        if self._port is not None:
            port, self._port = self._port, None
            if not self._port_owned_elsewhere:

                def stop_listening() -> defer.Deferred[None]:
                    return port.stopListening() or defer.succeed(None)

                waits.append(defer.maybeDeferred(stop_listening))
        for dial in list(self._dialling.values()):
            dial.connecting.cancel()
        for conn in list(self.connections):
            closed: defer.Deferred[None] = defer.Deferred()
            conn.close_waiters.append(closed)
            waits.append(closed)
            if conn.is_open:
                conn.close(frames.GOODBYE_SHUTDOWN)
                # A peer that does not read must not hold our shutdown for long.
                conn.abort_later(5.0)
        return defer.DeferredList(waits, consumeErrors=True).addCallback(lambda _: None)

    # -- connection bookkeeping ---------------------------------------------------------------

    def _opened(self, conn: TcpConnection) -> None:
        self.connections.append(conn)
        if self._reading_paused is not None:
            conn.pause_reading("throttle")
        if self._stopping:
            conn.close(frames.GOODBYE_SHUTDOWN)

    def _closed(self, conn: TcpConnection, reason: Failure) -> None:
        if conn in self.connections:
            self.connections.remove(conn)
        waiters, conn.close_waiters = conn.close_waiters, []
        for waiter in waiters:
            waiter.callback(None)
        peer = conn.peer
        if peer is None or self._by_peer.get(peer) is not conn:
            return
        del self._by_peer[peer]
        if conn.goodbye_received is not None:
            how = conn.goodbye_received
        elif conn.goodbye_sent is not None or conn.dropped_locally or self._stopping:
            how = "local"
        else:
            how = "lost"
        if self._stopping:
            return
        try:
            self.on_peer_closed(peer, how)
        except Exception:
            self.log.failure("on_peer_closed failed")

    def refuse_address(self, host: str, reason: str) -> None:
        """``host`` sent too many bad packets: drop its unauthenticated connections (new ones are refused)."""
        dropped = [conn for conn in self.connections if conn.host == host and not conn.verified and conn.is_open]
        self.log.warn(
            "refusing tcp peers at {host} for a while: too many bad packets (last: {reason}); dropping {count}",
            host=host,
            reason=reason,
            count=len(dropped),
        )
        for conn in dropped:
            conn.dropped_locally = True
            conn.drop()

    def bind(self, conn: TcpConnection, idurl: str) -> None:
        """``idurl`` proved its key on ``conn``: route our packets to them over it.

        With two live connections to one peer (both dialled at once), both sides keep the one dialled
        by the smaller IDURL, so they agree without talking about it.
        """
        conn.verified = True
        conn.peer = idurl
        conn.trust_account()
        current = self._by_peer.get(idurl)
        if current is conn or not conn.is_open:
            return
        if current is None or not current.is_open:
            self._by_peer[idurl] = conn
            return
        self._keep_one(idurl, current, conn)

    def _keep_one(self, idurl: str, current: TcpConnection, other: TcpConnection) -> TcpConnection:
        """Two live connections to one peer (both dialled at once): both sides keep the one dialled
        by the smaller IDURL, so they agree without talking about it; the other says goodbye."""
        me = self.local_idurl() or ""

        def initiator(c: TcpConnection) -> str:
            return me if c.direction == "out" else idurl

        keep, drop = (current, other) if initiator(current) <= initiator(other) else (other, current)
        self._by_peer[idurl] = keep
        drop.peer = idurl
        drop.close(frames.GOODBYE_DUPLICATE)
        return keep

    def connection_for(self, idurl: str) -> TcpConnection | None:
        conn = self._by_peer.get(idurl)
        return conn if conn is not None and conn.is_open else None

    # -- sending ------------------------------------------------------------------------------

    def send(self, idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
        """Send one packet to ``idurl``, dialling ``contact`` when there is no live connection."""
        if self._stopping:
            return defer.fail(NotConnected("the tcp transport is stopping"))
        if len(data) > self.max_packet:
            return defer.fail(ValueError(f"packet of {len(data)} bytes exceeds {self.max_packet}"))
        conn = self.connection_for(idurl)
        if conn is not None:
            return conn.send_packet(data)
        for candidate in self.connections:
            pending = candidate.proving(idurl)
            if pending is not None:
                # The peer is proving itself on a connection it opened: wait, rather than dial a second one.
                return pending.addCallback(lambda _: self.send(idurl, contact, data))
        return self._dial(idurl, contact).addCallback(lambda c: c.send_packet(data))

    def _dial(self, idurl: str, contact: str) -> defer.Deferred[TcpConnection]:
        dial = self._dialling.get(idurl)
        if dial is None:
            try:
                host, port = parse_address(contact)
            except ValueError as exc:
                return defer.fail(NotConnected(str(exc)))
            endpoint = endpoints.TCP4ClientEndpoint(self.reactor, host, port, timeout=self.connect_timeout)
            # Our factory builds TcpConnections (outgoing ones are never refused), whatever
            # the endpoint's signature says of protocols in general.
            connecting = cast(
                "defer.Deferred[TcpConnection]", endpoint.connect(ConnectionFactory(self, "out", expected_peer=idurl))
            )
            dial = self._dialling[idurl] = _Dial(connecting)
            waiting = dial.waiters

            def connected(conn: TcpConnection) -> None:
                self._dialling.pop(idurl, None)
                current = self.connection_for(idurl)
                if current is None:
                    self._by_peer[idurl] = conn
                elif current is not conn:
                    # The peer dialled us (and proved who it is) while we were dialling it.
                    self._keep_one(idurl, current, conn)
                for d in waiting:
                    d.callback(self.connection_for(idurl) or conn)

            def failed(failure: Failure) -> None:
                self._dialling.pop(idurl, None)
                reason = failure.getErrorMessage() if not failure.check(defer.CancelledError) else "cancelled"
                for d in waiting:
                    d.errback(NotConnected(f"cannot connect to {contact}: {reason}"))

            dial.connecting.addCallbacks(connected, failed)
        result: defer.Deferred[TcpConnection] = defer.Deferred()
        dial.waiters.append(result)
        return result

    # -- reporting ----------------------------------------------------------------------------

    def connections_json(self) -> list[dict[str, Any]]:
        return [conn.to_json() for conn in self.connections]

    def streams_json(self) -> list[dict[str, Any]]:
        result = []
        for conn in self.connections:
            for stream in conn.streams():
                result.append(
                    {
                        "proto": PROTO,
                        "stream_id": stream.stream_id,
                        "direction": stream.direction,
                        "idurl": conn.peer,
                        "host": f"{conn.host}:{conn.port}",
                        "bytes_done": stream.done,
                        "size": stream.total,
                        "progress": round(stream.done / stream.total, 4) if stream.total else 1.0,
                    }
                )
        return result

    def status_json(self) -> dict[str, Any]:
        return {
            "listening_port": self.listening_port,
            "sessions": self.connections_json(),
            "streams": self.streams_json(),
            "violations": self.violations,
            "dropped_for_garbage": self.dropped_for_garbage,
            "refused_connections": self.refused_connections,
            "auth_refused": self.auth_refused,
            "unfinished_bytes": self.receive_budget.held,
            "unfinished_bytes_strangers": self.receive_budget.strangers_held,
        }
