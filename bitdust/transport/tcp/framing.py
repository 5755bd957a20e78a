"""FrameProtocol: messages and flow-controlled streams of opaque bytes over one TCP connection.

Outgoing streams are written by :mod:`bitdust.transport.tcp.outgoing`. Every rule break by the peer
is counted, reported through ``on_violation`` and answered by dropping the connection; nothing
raises out of ``dataReceived``. Timers run on an injected clock so tests use ``task.Clock``.

What the peer makes us hold (a partial frame, the received bytes of its open streams) is counted
after every read in an optional :class:`~bitdust.transport.tcp.budget.Account`: over a limit the
connection stops reading until there is room (or is dropped, see the budget module), and bytes held
for ``stall_timeout`` seconds without any progress drop the connection as stalled.

The hello carries this side's random nonce (:attr:`FrameProtocol.nonce`); ``on_hello(nonce)`` gets
the peer's, and ``on_auth(body)`` every AUTH frame: proving who is on the other end is the owner's
business, this layer only carries the frames.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO, TypeVar, cast

import attrs
from twisted.internet import defer, task
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from bitdust.transport.errors import NotConnected, ProtocolViolation
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.budget import Account, StallTimer
from bitdust.transport.tcp.frames import ABORT_BY_RECEIVER, ABORT_BY_SENDER, Frame, FrameType
from bitdust.transport.tcp.outgoing import OutgoingStreams, StreamProgress
from bitdust.transport.tcp.wire import StreamConsumer, Wire

log = Logger()

T = TypeVar("T")


#: what ``on_stream_start`` answers: a consumer (or a callable taking each chunk), None to refuse
StreamSink = StreamConsumer | Callable[[bytes], object] | None

DEFAULT_MAX_STREAM = 1024**3


@attrs.define
class FrameStats:
    bytes_in: int = 0
    bytes_out: int = 0
    frames_in: int = 0
    frames_out: int = 0
    violations: int = 0


@attrs.define
class _Incoming:
    total: int
    write: Callable[[bytes], object] | None
    received: int = 0


class FrameProtocol(Protocol, TimeoutMixin):
    """Length-prefixed frames; see :mod:`bitdust.transport.tcp.frames` for the wire format."""

    def __init__(
        self,
        clock: IReactorTime,
        *,
        on_message: Callable[[bytes], object] = lambda payload: None,
        on_stream_start: Callable[[int, int], StreamSink] = lambda stream_id, total: None,
        on_stream_end: Callable[[int], object] = lambda stream_id: None,
        on_stream_abort: Callable[[int, str], object] = lambda stream_id, reason: None,
        on_violation: Callable[[str], object] = lambda reason: None,
        on_goodbye: Callable[[str], object] = lambda reason: None,
        on_hello: Callable[[bytes], object] = lambda nonce: None,
        on_auth: Callable[[bytes], object] = lambda body: None,
        throttle: Callable[[int], float] | None = None,
        idle_timeout: float | None = 120.0,
        keepalive: float | None = 30.0,
        max_stream_length: int = DEFAULT_MAX_STREAM,
        max_incoming_streams: int = 8,
        account: Account | None = None,
        stall_timeout: float | None = None,
    ) -> None:
        self._clock = clock
        self._on_message = on_message
        self._on_stream_start = on_stream_start
        self._on_stream_end = on_stream_end
        self._on_stream_abort = on_stream_abort
        self._on_violation = on_violation
        self._on_goodbye = on_goodbye
        self._on_hello = on_hello
        self._on_auth = on_auth
        #: our hello's nonce: the challenge the peer's AUTH must sign
        self.nonce = frames.new_nonce()
        self.account = account
        if account is not None:
            account.on_room = lambda: self.resume_reading("budget")
        self._stall = StallTimer(clock, stall_timeout, account, self._stalled)
        self._paused_for: set[str] = set()
        self._last_held = 0
        #: ``throttle(size)`` accounts for a written chunk and says how long to wait before the next
        self._idle_timeout = idle_timeout
        self._keepalive = keepalive
        self.max_stream_length = max_stream_length
        self.max_incoming_streams = max_incoming_streams
        self.stats = FrameStats()
        self.decoder = frames.FrameDecoder()
        self._incoming: dict[int, _Incoming] = {}
        self._outgoing = OutgoingStreams(
            clock, write=self._write, consumer=lambda: self.wire, connected=lambda: self._connected, throttle=throttle
        )
        self._pinger: task.LoopingCall | None = None
        self._connected = False
        self._dropped = False
        #: the reason the peer gave before closing ("idle", "shutdown", "duplicate"), if it gave one
        self.goodbye_received: str | None = None
        self.goodbye_sent: str | None = None

    @property
    def wire(self) -> Wire:
        """The transport, once connected, with the calls :class:`Wire` names."""
        assert self.transport is not None, "not connected"
        return cast(Wire, self.transport)

    # -- timers -------------------------------------------------------------------------------

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:  # noqa: N802 (TimeoutMixin hook)
        return self._clock.callLater(period, func)

    def _stalled(self) -> None:
        if self._connected and not self._dropped:
            self.violation("stalled-stream")

    def timeoutConnection(self) -> None:
        log.info("closing idle connection")
        self.drop()

    def _send_ping(self) -> None:
        if self._connected and not self._dropped:
            self._write(FrameType.PING)

    # -- connection life ----------------------------------------------------------------------

    def connectionMade(self) -> None:
        self._connected = True
        self._write_raw(frames.encode_hello(self.nonce))
        self.setTimeout(self._idle_timeout)
        if self._keepalive:
            self._pinger = task.LoopingCall(self._send_ping)
            self._pinger.clock = self._clock
            self._pinger.start(self._keepalive, now=False)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._connected = False
        self.setTimeout(None)
        if self._pinger is not None and self._pinger.running:
            self._pinger.stop()
        self._stall.cancel()
        if self.account is not None:
            self.account.close()
        self._outgoing.lost()
        incoming, self._incoming = self._incoming, {}
        for stream_id in incoming:
            self._call(self._on_stream_abort, stream_id, "connection-lost")

    def drop(self) -> None:
        """Abort the connection now, without a goodbye: what is queued is not written."""
        self._dropped = True
        if self.transport is not None:
            self.wire.abortConnection()

    def violation(self, reason: str) -> None:
        """Count a rule break by the peer, report it, and drop the connection."""
        self.stats.violations += 1
        log.warn("protocol violation {reason}", reason=reason)
        self._call(self._on_violation, reason)
        self.drop()

    # -- receiving ----------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._dropped:
            return
        self.resetTimeout()
        self.stats.bytes_in += len(data)
        had_hello = self.decoder.peer_nonce is not None
        try:
            for frame in self.decoder.feed(data):
                if not had_hello:
                    had_hello = True
                    self._call(self._on_hello, self.decoder.peer_nonce)
                self.stats.frames_in += frame.complete
                self._handle(frame)
                if self._dropped:
                    return
            if not had_hello and self.decoder.peer_nonce is not None:
                self._call(self._on_hello, self.decoder.peer_nonce)
            self._account_bytes()
        except ProtocolViolation as exc:
            self.violation(exc.reason)

    @property
    def held(self) -> int:
        """Bytes the peer makes us hold: a partial frame and what its open streams delivered."""
        streams = sum(stream.received for stream in self._incoming.values() if stream.write is not None)
        return self.decoder.buffered + streams

    def _account_bytes(self) -> None:
        """Count what we hold in the budget; over a limit stop reading, or drop a peer that broke it."""
        held = self.held
        account = self.account
        changed, self._last_held = held != self._last_held, held
        if account is not None and not account.hold(held):
            if account.trusted and account.over_own_limit():
                raise ProtocolViolation("too-much-unfinished")
            self.pause_reading("budget")
        self._stall.update(held, changed)

    def pause_reading(self, reason: str) -> None:
        """Stop reading from the socket until every reason given here is resumed."""
        if not self._paused_for and self.transport is not None:
            self.wire.pauseProducing()
        self._paused_for.add(reason)

    def resume_reading(self, reason: str) -> None:
        if reason not in self._paused_for:
            return
        self._paused_for.discard(reason)
        if not self._paused_for and self._connected and not self._dropped and self.transport is not None:
            self.wire.resumeProducing()

    @property
    def reading_paused(self) -> frozenset[str]:
        return frozenset(self._paused_for)

    def _handle(self, frame: Frame) -> None:
        kind, sid, body = frame.type, frame.stream_id, frame.body
        if kind is FrameType.MESSAGE:
            self._call(self._on_message, body)
        elif kind is FrameType.PING:
            self._write(FrameType.PONG)
        elif kind is FrameType.PONG:
            pass
        elif kind is FrameType.STREAM_START:
            self._start_incoming(sid, bytes(body))
        elif kind is FrameType.STREAM_CHUNK:
            stream = self._stream(sid)
            if not body:
                raise ProtocolViolation("empty-chunk")
            if stream.received + len(body) > stream.total:
                raise ProtocolViolation("stream-overrun")
            stream.received += len(body)
            if stream.write is not None and not self._call(stream.write, body):
                self.cancel_incoming(sid)
        elif kind is FrameType.STREAM_END:
            stream = self._stream(sid)
            if stream.received != stream.total:
                raise ProtocolViolation("stream-underrun")
            del self._incoming[sid]
            if stream.write is not None:
                self._call(self._on_stream_end, sid)
        elif kind is FrameType.STREAM_ABORT:
            self._handle_abort(sid, bytes(body))
        elif kind is FrameType.GOODBYE:
            reason = frames.GOODBYE_REASONS.get(bytes(body))
            if reason is None:
                raise ProtocolViolation("bad-goodbye")
            self.goodbye_received = reason
            self._call(self._on_goodbye, reason)
        elif kind is FrameType.AUTH:
            self._call(self._on_auth, body)

    def _stream(self, sid: int) -> _Incoming:
        stream = self._incoming.get(sid)
        if stream is None:
            raise ProtocolViolation("unknown-stream")
        return stream

    def _start_incoming(self, sid: int, body: bytes) -> None:
        if len(body) != frames.STREAM_TOTAL.size:
            raise ProtocolViolation("bad-stream-start")
        (total,) = frames.STREAM_TOTAL.unpack(body)
        if sid in self._incoming:
            raise ProtocolViolation("duplicate-stream")
        if len(self._incoming) >= self.max_incoming_streams:
            raise ProtocolViolation("too-many-streams")
        if total > self.max_stream_length:
            raise ProtocolViolation("stream-too-large")
        stream = _Incoming(total=total, write=None)
        self._incoming[sid] = stream
        ok, consumer = self._call_result(self._on_stream_start, sid, total)
        if ok and consumer is not None:
            stream.write = consumer.write if isinstance(consumer, StreamConsumer) else consumer
        else:
            self.cancel_incoming(sid)

    def _handle_abort(self, sid: int, body: bytes) -> None:
        if body == ABORT_BY_RECEIVER:
            self._outgoing.cancelled_by_peer(sid)
            return
        if body != ABORT_BY_SENDER:
            raise ProtocolViolation("bad-abort")
        stream = self._stream(sid)
        del self._incoming[sid]
        if stream.write is not None:
            self._call(self._on_stream_abort, sid, "aborted-by-peer")

    def cancel_incoming(self, stream_id: int) -> None:
        """Refuse the rest of an incoming stream; its frames are counted and dropped until the
        sender acknowledges with its own abort or the END already in flight."""
        stream = self._incoming.get(stream_id)
        if stream is None or not self.is_open:
            return
        had_consumer = stream.write is not None
        stream.write = None
        self._write(FrameType.STREAM_ABORT, stream_id, ABORT_BY_RECEIVER)
        if had_consumer:
            # The consumer forgets what it collected: those bytes are no longer ours to hold.
            self._call(self._on_stream_abort, stream_id, "cancelled")

    def _call(self, func: Callable[..., object], *args: object) -> bool:
        return self._call_result(func, *args)[0]

    def _call_result(self, func: Callable[..., T], *args: object) -> tuple[bool, T | None]:
        """Run a user callback; its bugs are logged, never turned into a dropped connection."""
        try:
            return True, func(*args)
        except Exception:
            log.failure("callback {func!r} failed", func=func)
            return False, None

    # -- sending ------------------------------------------------------------------------------

    def _write_raw(self, data: bytes) -> None:
        self.stats.bytes_out += len(data)
        self.wire.write(data)

    def _write(self, frame_type: FrameType, stream_id: int = 0, body: bytes = b"") -> None:
        if not self._connected or self._dropped:
            raise NotConnected("connection is not open")
        self.stats.frames_out += 1
        if len(body) < 4096:
            self._write_raw(frames.encode_frame(frame_type, stream_id, body))
        else:
            # Big bodies go as they are: gluing the header on would copy them once more.
            self.wire.writeSequence([frames.HEADER.pack(frame_type, stream_id, len(body)), body])
            self.stats.bytes_out += frames.HEADER.size + len(body)

    def send_message(self, payload: bytes) -> None:
        """Send a small payload in one frame; bigger ones must go through :meth:`send_stream`."""
        if len(payload) > frames.MAX_MESSAGE:
            raise ValueError(f"message of {len(payload)} bytes exceeds {frames.MAX_MESSAGE}")
        self._write(FrameType.MESSAGE, 0, payload)

    def close(self, goodbye: bytes) -> None:
        """Tell the peer why, then close once everything queued is written."""
        if self._connected and not self._dropped:
            self.goodbye_sent = frames.GOODBYE_REASONS[goodbye]
            self._write(FrameType.GOODBYE, 0, goodbye)
            self.wire.loseConnection()

    @property
    def is_open(self) -> bool:
        """Open for our packets: connected, not dropped, and nobody said goodbye yet."""
        return self._connected and not self._dropped and self.goodbye_sent is None and self.goodbye_received is None

    def send_stream(
        self, source: bytes | bytearray | memoryview | BinaryIO, total: int | None = None
    ) -> defer.Deferred[None]:
        """Queue ``source`` (bytes or a seekable reader); fires once END is written."""
        if not self._connected or self._dropped:
            return defer.fail(NotConnected("connection is not open"))
        reader = io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray | memoryview) else source
        if total is None:
            position = reader.tell()
            total = reader.seek(0, io.SEEK_END) - position
            reader.seek(position)
        if total > self.max_stream_length:
            return defer.fail(ValueError(f"stream of {total} bytes exceeds {self.max_stream_length}"))
        return self._outgoing.queue(reader, total)

    def streams(self) -> list[StreamProgress]:
        """Progress of every open stream, both directions, for ``streams_list``."""
        result = [StreamProgress(sid, "in", s.received, s.total) for sid, s in self._incoming.items()]
        return result + self._outgoing.progress()
