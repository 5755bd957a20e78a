"""The TCP transport: one listening socket and at most one live connection per peer.

Packets are opaque bytes here; the gateway decodes and verifies them, and a verified packet never
changes where we send: anyone can replay a signed packet on a connection of their own. A connection
is *bound* to an IDURL (used for sending to it) only when the peer proved its key on that very
connection with an AUTH frame signed over our hello's nonce (:mod:`bitdust.transport.tcp.auth`), or
when we dialled the contact of that IDURL's identity ourselves. Until a peer is bound, sending to it
dials its own contact; a send that finds a proof from that peer still being checked waits for it
instead of dialling a second connection. The dialler sends its AUTH before any packet, so the side
that accepted has the proof before the peer's bytes pile up.

Small packets travel as one MESSAGE frame, bigger ones as a stream, so a 16 MiB packet never sits in
the socket buffer at once and a slow peer makes the sender wait instead of buffer. What peers make
us hold for unfinished frames and streams is bounded by one :class:`ReceiveBudget` for the node
(small for connections that proved nothing yet), and bytes held with no progress for
``stall_timeout`` seconds drop the connection.

Two timeouts, two jobs: the frame layer's ``dead_timeout`` drops a connection that has been silent
(keepalive pings included) for too long, i.e. a dead peer; ``idle_close`` closes a healthy connection
that carried no packets for a while, with a GOODBYE saying so, so the peer does not mistake the quiet
close for a lost peer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet import defer, endpoints, error
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.transport.bandwidth import TokenBucket
from bitdust.transport.errors import NotConnected, ProtocolViolation
from bitdust.transport.penalties import AddressPenalties
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.auth import AuthClaim, Authenticator, AuthFailed, decode_claim
from bitdust.transport.tcp.budget import BudgetLimits, ReceiveBudget
from bitdust.transport.tcp.framing import FrameProtocol

PROTO = "tcp"


def parse_address(contact: str) -> tuple[str, int]:
    """``tcp://host:port`` (or ``host:port``) -> ``(host, port)``; ValueError when malformed."""
    scheme, sep, rest = contact.partition("://")
    if not sep:
        rest = contact
    elif scheme != PROTO:
        raise ValueError(f"not a tcp contact: {contact!r}")
    host, sep, port_text = rest.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"not a tcp contact: {contact!r}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"bad port in tcp contact: {contact!r}")
    return host, port


@attrs.define(eq=False)
class _Assembly:
    """Collects one incoming streamed packet; the frame layer already bounds its total size."""

    chunks: list[bytes] = attrs.field(factory=list)

    def write(self, data: bytes) -> None:
        self.chunks.append(data)


@attrs.define(eq=False)
class _Dial:
    """One connection attempt to a peer and everyone waiting for it."""

    connecting: defer.Deferred[Any]
    waiters: list[defer.Deferred[TcpConnection]] = attrs.field(factory=list)


class TcpConnection(FrameProtocol):
    """One TCP connection, incoming or outgoing, and what it knows about its peer."""

    def __init__(self, owner: TcpTransport, direction: str, *, expected_peer: str | None = None) -> None:
        super().__init__(
            owner.clock,
            on_message=self._message,
            on_stream_start=self._stream_start,
            on_stream_end=self._stream_end,
            on_stream_abort=self._stream_abort,
            on_violation=self._violated,
            on_goodbye=self._goodbye,
            on_hello=self._hello,
            on_auth=self._auth,
            throttle=owner.sent_chunk,
            idle_timeout=owner.dead_timeout,
            keepalive=owner.keepalive,
            max_stream_length=owner.max_packet,
            max_incoming_streams=4,
            account=owner.receive_budget.open(lambda: None),
            stall_timeout=owner.stall_timeout,
        )
        if direction == "out":
            # We dialled the contact of a signed identity: not a stranger who came to us.
            self.account.trust()
        self.owner = owner
        self.direction = direction
        #: the IDURL this connection carries packets of, once known
        self.peer: str | None = expected_peer
        #: the peer proved its key on this connection (an AUTH frame that verified)
        self.verified = False
        #: the primary IDURL the peer proved, whether or not the connection is bound to it
        self.authenticated: str | None = None
        #: the peer's AUTH claim, once one arrived (at most one per connection)
        self.auth_claim: AuthClaim | None = None
        self.auth_sent = False
        self._auth_waiters: list[defer.Deferred[None]] | None = None
        #: an outgoing connection sends packets only after its AUTH (or after finding it has none)
        self.ready = direction == "in"
        self._ready_waiters: list[defer.Deferred[None]] = []
        self.garbage = 0
        self.started = owner.clock.seconds()
        self.last_packet = self.started
        self.packets_in = 0
        self.packets_out = 0
        self.host = ""
        self.port = 0
        self._assemblies: dict[int, _Assembly] = {}
        self._idle_call: Any = None
        self._abort_call: Any = None
        #: fired once the connection is closed (``TcpTransport.stop`` waits on them)
        self.close_waiters: list[defer.Deferred[None]] = []
        #: we dropped the peer (bad packets, broken framing): not a sign that it went away
        self.dropped_locally = False

    # -- life ---------------------------------------------------------------------------------

    def connectionMade(self) -> None:
        peer = self.transport.getPeer()
        self.host, self.port = getattr(peer, "host", ""), getattr(peer, "port", 0)
        if hasattr(self.transport, "setTcpNoDelay"):
            # Packets are whole messages: waiting to coalesce them only adds latency.
            self.transport.setTcpNoDelay(True)
        super().connectionMade()
        self._arm_idle()
        self.owner._opened(self)

    def connectionLost(self, reason: Failure = error.ConnectionDone) -> None:  # type: ignore[assignment]
        super().connectionLost(reason)
        for call in (self._idle_call, self._abort_call):
            if call is not None and call.active():
                call.cancel()
        self._idle_call = self._abort_call = None
        self._assemblies.clear()
        waiters, self._ready_waiters = self._ready_waiters, []
        for waiter in waiters:
            waiter.errback(NotConnected(f"connection to {self.peer or self.host} closed"))
        self._auth_settled()
        self.owner._closed(self, reason)

    def _arm_idle(self) -> None:
        if self.owner.idle_close is None:
            return
        if self._idle_call is not None and self._idle_call.active():
            self._idle_call.reset(self.owner.idle_close)
        else:
            self._idle_call = self.owner.clock.callLater(self.owner.idle_close, self._idle_expired)

    def _idle_expired(self) -> None:
        self._idle_call = None
        self.owner.log.debug("closing tcp connection to {peer}: no packets for a while", peer=self.peer or self.host)
        self.close(frames.GOODBYE_IDLE)

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        self.owner.received(len(data))

    def touched(self) -> None:
        self.last_packet = self.owner.clock.seconds()
        self._arm_idle()

    # -- receiving ----------------------------------------------------------------------------

    def _message(self, payload: bytes) -> None:
        if not payload:
            self.violation("empty-message")
            return
        self._deliver(payload)

    def _stream_start(self, stream_id: int, total: int) -> _Assembly | None:
        if total <= frames.MAX_MESSAGE:
            # Small packets always come as messages; a small stream is someone probing us.
            self.violation("small-stream")
            return None
        assembly = self._assemblies[stream_id] = _Assembly()
        return assembly

    def _stream_end(self, stream_id: int) -> None:
        assembly = self._assemblies.pop(stream_id, None)
        if assembly is not None:
            self._deliver(b"".join(assembly.chunks))

    def _stream_abort(self, stream_id: int, reason: str) -> None:
        """Aborted by the sender or cancelled by us: what it collected is dropped at once."""
        self._assemblies.pop(stream_id, None)

    # -- proving who is on the other end --------------------------------------------------------

    def _hello(self, peer_nonce: bytes) -> None:
        if self.direction == "out":
            self._send_auth(self.peer)
        # The side that accepted proves itself once the dialler did (see _auth_verified).

    def _send_auth(self, verifier: str | None) -> None:
        """Sign the peer's nonce and send our AUTH; an outgoing connection is ready after it."""
        authenticator = self.owner.authenticator
        peer_nonce = self.decoder.peer_nonce
        if authenticator is None or verifier is None or peer_nonce is None or self.auth_sent:
            self._set_ready()
            return
        self.auth_sent = True

        def send(body: bytes | None) -> None:
            if body is not None and self.is_open:
                self._write(frames.FrameType.AUTH, 0, body)

        def failed(failure: Failure) -> None:
            self.owner.log.failure("signing our tcp proof to {peer} failed", failure, peer=verifier)

        d = authenticator.sign(verifier=verifier, verifier_nonce=peer_nonce, signer_nonce=self.nonce)
        d.addCallbacks(send, failed)
        d.addBoth(lambda _: self._set_ready())

    def _set_ready(self) -> None:
        if self.ready:
            return
        self.ready = True
        waiters, self._ready_waiters = self._ready_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def _auth(self, body: bytes) -> None:
        if self.auth_claim is not None:
            self.violation("repeated-auth")
            return
        try:
            claim = decode_claim(body)
        except ProtocolViolation as exc:
            self.violation(exc.reason)
            return
        self.auth_claim = claim
        authenticator = self.owner.authenticator
        if authenticator is None:
            return  # nothing to check it with: the connection stays unbound
        self._auth_waiters = []
        d = authenticator.verify(claim, my_nonce=self.nonce, peer_nonce=self.decoder.peer_nonce or b"")
        d.addCallbacks(self._auth_verified, self._auth_refused)
        d.addErrback(lambda f: self.owner.log.failure("handling a tcp proof failed", f))
        d.addBoth(lambda _: self._auth_settled())

    def _auth_verified(self, idurl: str) -> None:
        if not self.is_open:
            return
        self.authenticated = idurl
        self.account.trust()
        claim = self.auth_claim
        assert claim is not None
        if self.direction == "in":
            self.owner.bind(self, idurl)
            self._send_auth(claim.signer)
        elif self.peer in (idurl, claim.signer):
            self.owner.bind(self, self.peer)
        else:
            self.owner.log.info(
                "tcp peer {host}:{port} proved to be {idurl}, not {expected}; not bound",
                host=self.host,
                port=self.port,
                idurl=idurl,
                expected=self.peer,
            )

    def _auth_refused(self, failure: Failure) -> None:
        failure.trap(AuthFailed)
        self.owner.auth_refused += 1
        self.owner.log.info(
            "tcp peer {host}:{port} did not prove {signer}: {reason}",
            host=self.host,
            port=self.port,
            signer=self.auth_claim.signer if self.auth_claim else "?",
            reason=failure.getErrorMessage(),
        )
        if failure.value.hostile and self.is_open:
            self.violation("bad-auth")

    def _auth_settled(self) -> None:
        waiters, self._auth_waiters = self._auth_waiters, None
        for waiter in waiters or ():
            waiter.callback(None)

    def proving(self, idurl: str) -> defer.Deferred[None] | None:
        """A Deferred fired when this connection's pending proof of ``idurl`` is settled, else None."""
        claim = self.auth_claim
        if self._auth_waiters is None or claim is None or claim.signer != idurl or not self.is_open:
            return None
        waiter: defer.Deferred[None] = defer.Deferred()
        self._auth_waiters.append(waiter)
        return waiter

    def _deliver(self, data: bytes) -> None:
        self.packets_in += 1
        self.touched()
        self.owner.on_packet(data, self)

    def _violated(self, reason: str) -> None:
        self.dropped_locally = True
        self.owner.violations += 1
        self.owner.log.warn(
            "tcp peer {host}:{port} broke the framing rules ({reason}); dropped",
            host=self.host,
            port=self.port,
            reason=reason,
        )

    def _goodbye(self, reason: str) -> None:
        self.owner.log.debug("tcp peer {peer} says goodbye: {reason}", peer=self.peer or self.host, reason=reason)

    def report_garbage(self, reason: str) -> None:
        """The gateway refused a packet from this connection; too many and the peer is dropped.

        Each one also counts against the peer's address (:mod:`bitdust.transport.penalties`), so a
        new connection from the same address does not start from zero.
        """
        self.garbage += 1
        if self.owner.penalties.report(self.host):
            self.owner.refuse_address(self.host, reason)
        if self.garbage >= self.owner.max_garbage and self.is_open:
            self.owner.log.warn(
                "dropping tcp peer {host}:{port} after {count} bad packets (last: {reason})",
                host=self.host,
                port=self.port,
                count=self.garbage,
                reason=reason,
            )
            self.owner.dropped_for_garbage += 1
            self.dropped_locally = True
            self.drop()

    # -- sending ------------------------------------------------------------------------------

    def send_packet(self, data: bytes) -> defer.Deferred[None]:
        if not self.is_open:
            return defer.fail(NotConnected(f"connection to {self.peer or self.host} is closed"))
        if not self.ready:
            waiter: defer.Deferred[None] = defer.Deferred()
            self._ready_waiters.append(waiter)
            return waiter.addCallback(lambda _: self.send_packet(data))
        self.packets_out += 1
        self.touched()
        if len(data) <= frames.MAX_MESSAGE:
            self.send_message(data)
            # Small packets go at once; their bytes still count, so streams behind them wait longer.
            self.owner.send_bucket.take(len(data))
            return defer.succeed(None)
        return self.send_stream(data)

    def to_json(self) -> dict[str, Any]:
        return {
            "proto": PROTO,
            "status": "active" if self.is_open else "closed",
            "state": "CONNECTED" if self.is_open else "CLOSED",
            "direction": self.direction,
            "host": f"{self.host}:{self.port}",
            "idurl": self.peer,
            "verified": self.verified,
            "authenticated": self.authenticated,
            "started": self.started,
            "idle_seconds": round(self.owner.clock.seconds() - self.last_packet, 3),
            "bytes_sent": self.stats.bytes_out,
            "bytes_received": self.stats.bytes_in,
            "packets_sent": self.packets_out,
            "packets_received": self.packets_in,
        }


class _Factory(Factory):
    def __init__(self, owner: TcpTransport, direction: str, expected_peer: str | None = None) -> None:
        self.owner = owner
        self.direction = direction
        self.expected_peer = expected_peer

    def buildProtocol(self, addr: Any) -> TcpConnection:  # noqa: N802 (Twisted API)
        if self.direction == "in" and len(self.owner.connections) >= self.owner.max_connections:
            self.owner.log.warn("refusing tcp connection from {addr}: too many connections", addr=addr)
            return None  # type: ignore[return-value]
        if self.direction == "in" and self.owner.penalties.is_refused(getattr(addr, "host", "")):
            self.owner.refused_connections += 1
            return None  # type: ignore[return-value]
        return TcpConnection(self.owner, self.direction, expected_peer=self.expected_peer)


class TcpTransport:
    """Listening socket plus connection pool. ``on_packet(data, connection)`` gets every packet.

    ``on_peer_closed(idurl, how)`` is told when the last connection of a bound peer closes: ``how`` is
    the peer's GOODBYE reason ("idle", "shutdown", "duplicate"), ``"local"`` when we closed it, or
    ``"lost"`` when it broke without a word.
    """

    proto = PROTO

    def __init__(
        self,
        reactor: Any,
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
        self.clock = reactor
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
        self.penalties = penalties if penalties is not None else AddressPenalties(reactor)
        self.refused_connections = 0
        self.auth_refused = 0
        self._port: IListeningPort | None = None
        self._listen_on: tuple[int, str] | None = None
        self._by_peer: dict[str, TcpConnection] = {}
        self._dialling: dict[str, _Dial] = {}
        self._stopping = False
        self.receive_bucket = TokenBucket(reactor, receive_limit)
        self.send_bucket = TokenBucket(reactor, send_limit)
        self._reading_paused: Any = None

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
        return self._port.getHost().port if self._port is not None else None

    def listen(self, port: int, interface: str = "") -> defer.Deferred[int]:
        """Start listening (port 0 picks a free one); fires with the port."""
        if self._port is not None:
            return defer.succeed(self.listening_port)
        self._stopping = False
        self._listen_on = (port, interface)
        endpoint = endpoints.TCP4ServerEndpoint(self.reactor, port, interface=interface)

        def listening(listening_port: IListeningPort) -> int:
            self._port = listening_port
            return listening_port.getHost().port

        return endpoint.listen(_Factory(self, "in")).addCallback(listening)

    def ensure_listening(self) -> defer.Deferred[int]:
        """Listen again where :meth:`listen` was told to, if the socket is gone."""
        if self._listen_on is None:
            raise RuntimeError("ensure_listening before listen")
        return self.listen(*self._listen_on)

    def stop(self) -> defer.Deferred[None]:
        """Stop listening, say goodbye on every connection and wait until all are closed."""
        self._stopping = True
        if self._reading_paused is not None and self._reading_paused.active():
            self._reading_paused.cancel()
        self._reading_paused = None
        waits: list[defer.Deferred[Any]] = []
        if self._port is not None:
            port, self._port = self._port, None
            waits.append(defer.maybeDeferred(port.stopListening))
        for dial in list(self._dialling.values()):
            dial.connecting.cancel()
        for conn in list(self.connections):
            closed: defer.Deferred[None] = defer.Deferred()
            conn.close_waiters.append(closed)
            waits.append(closed)
            if conn.is_open:
                conn.close(frames.GOODBYE_SHUTDOWN)
                # A peer that does not read must not hold our shutdown for long.
                conn._abort_call = self.clock.callLater(5.0, conn.transport.abortConnection)
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
        conn.account.trust()
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
            dial = self._dialling[idurl] = _Dial(endpoint.connect(_Factory(self, "out", expected_peer=idurl)))
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
