"""Packets over frames on one TCP connection: the data path, apart from the connection's life cycle.

Small packets travel as one MESSAGE frame, bigger ones as a stream, so a 16 MiB packet never sits in
the socket buffer at once and a slow peer makes the sender wait instead of buffer. Packets are opaque
bytes here, handed to the owning pool in whatever state the connection is: the gateway decodes and
verifies them. A peer whose packets the gateway refuses (``report_garbage``) is dropped after a few,
and a healthy connection that carried no packets for ``idle_close`` seconds is closed with a GOODBYE
saying so, so the peer does not mistake the quiet close for a lost peer.

Who is on the other end, and when packets may be written, is the business of the subclass
:class:`~bitdust.transport.tcp.connection.TcpConnection` and its state machine. The pool is known
here only as :class:`ConnectionOwner`: the settings and calls a connection uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import attrs
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.transport.errors import NotConnected
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.auth import Authenticator
from bitdust.transport.tcp.framing import FrameProtocol

if TYPE_CHECKING:
    from twisted.internet.interfaces import IAddress, IDelayedCall, IReactorTime

    from bitdust.transport.bandwidth import TokenBucket
    from bitdust.transport.penalties import AddressPenalties
    from bitdust.transport.tcp.budget import ReceiveBudget
    from bitdust.transport.tcp.connection import TcpConnection


class ConnectionOwner(Protocol):
    """What a connection needs of its pool: settings, counters, and where to report."""

    clock: IReactorTime
    log: Logger
    authenticator: Authenticator | None
    receive_budget: ReceiveBudget
    penalties: AddressPenalties
    send_bucket: TokenBucket
    max_packet: int
    idle_close: float | None
    keepalive: float | None
    dead_timeout: float | None
    stall_timeout: float | None
    max_garbage: int
    violations: int
    auth_refused: int
    dropped_for_garbage: int

    def on_packet(self, data: bytes, conn: TcpConnection, /) -> object: ...

    def sent_chunk(self, size: int) -> float: ...

    def received(self, size: int) -> None: ...

    def bind(self, conn: TcpConnection, idurl: str) -> None: ...

    def refuse_address(self, host: str, reason: str) -> None: ...

    def _opened(self, conn: TcpConnection) -> None: ...

    def _closed(self, conn: TcpConnection, reason: Failure) -> None: ...


@attrs.define(eq=False)
class _Assembly:
    """Collects one incoming streamed packet; the frame layer already bounds its total size."""

    chunks: list[bytes] = attrs.field(factory=list)

    def write(self, data: bytes) -> None:
        self.chunks.append(data)


class PacketConnection(FrameProtocol):
    """One TCP connection's packets, counters and timers; ``direction`` is "in" or "out"."""

    def __init__(self, owner: ConnectionOwner, direction: str, *, expected_peer: str | None = None) -> None:
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
            self.trust_account()
        self.owner = owner
        self.direction = direction
        #: the IDURL this connection carries packets of, once known
        self.peer: str | None = expected_peer
        #: the pool routes packets for ``peer`` over this connection (``TcpTransport.bind``)
        self.verified = False
        self._ready_waiters: list[defer.Deferred[None]] = []
        self.garbage = 0
        self.started = owner.clock.seconds()
        self.last_packet = self.started
        self.packets_in = 0
        self.packets_out = 0
        self.host = ""
        self.port = 0
        self._assemblies: dict[int, _Assembly] = {}
        self._idle_call: IDelayedCall | None = None
        self._abort_call: IDelayedCall | None = None
        #: fired once the connection is closed (``TcpTransport.stop`` waits on them)
        self.close_waiters: list[defer.Deferred[None]] = []
        #: we dropped the peer (bad packets, broken framing): not a sign that it went away
        self.dropped_locally = False

    @property
    def ready(self) -> bool:
        """Packets may be written now (else :meth:`send_packet` waits for :meth:`_release_sends`)."""
        return True

    def trust_account(self) -> None:
        """Move what this connection holds to the pool of peers who are not strangers."""
        if self.account is not None:
            self.account.trust()

    def connectionMade(self) -> None:
        peer: IAddress = self.wire.getPeer()
        self.host, self.port = getattr(peer, "host", ""), getattr(peer, "port", 0)
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            # Packets are whole messages: waiting to coalesce them only adds latency.
            set_no_delay(True)
        super().connectionMade()

    # -- what the subclass learns from the frames ---------------------------------------------------

    def _hello(self, peer_nonce: bytes) -> None:
        """The peer's hello arrived with its nonce."""

    def _auth(self, body: bytes) -> None:
        """The peer sent an AUTH frame."""

    def _goodbye(self, reason: str) -> None:
        self.owner.log.debug("tcp peer {peer} says goodbye: {reason}", peer=self.peer or self.host, reason=reason)

    def _release_sends(self) -> None:
        """Packets may go now: the ones :meth:`send_packet` held back are written."""
        waiters, self._ready_waiters = self._ready_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def _release(self) -> None:
        """The socket closed: timers and held bytes go, sends held back fail."""
        for call in (self._idle_call, self._abort_call):
            if call is not None and call.active():
                call.cancel()
        self._idle_call = self._abort_call = None
        self._assemblies.clear()
        waiters, self._ready_waiters = self._ready_waiters, []
        for waiter in waiters:
            waiter.errback(NotConnected(f"connection to {self.peer or self.host} closed"))

    # -- idling -------------------------------------------------------------------------------------

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

    def abort_later(self, seconds: float) -> None:
        """Abort the connection if it is still there in ``seconds`` (a peer that does not read)."""
        self._abort_call = self.owner.clock.callLater(seconds, self.wire.abortConnection)

    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        self.owner.received(len(data))

    def touched(self) -> None:
        self.last_packet = self.owner.clock.seconds()
        self._arm_idle()

    # -- receiving packets --------------------------------------------------------------------------

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

    def _deliver(self, data: bytes) -> None:
        """Count a whole packet from the peer and hand it to the pool (in the subclass, which the
        pool knows): this class only takes packets apart from frames."""
        raise NotImplementedError

    def _violated(self, reason: str) -> None:
        self.dropped_locally = True
        self.owner.violations += 1
        self.owner.log.warn(
            "tcp peer {host}:{port} broke the framing rules ({reason}); dropped",
            host=self.host,
            port=self.port,
            reason=reason,
        )

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

    # -- sending packets ----------------------------------------------------------------------------

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
