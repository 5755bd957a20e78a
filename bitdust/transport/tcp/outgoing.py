"""The sending half of the framing layer: outgoing streams, one at a time, pulled by the transport.

A stream is written by a pull producer registered on the transport, so a slow peer makes the sender
wait instead of buffering a whole payload in memory; a send limit (``throttle``) makes the next chunk
wait on the clock. Streams queue behind each other: an honest sender has one stream in flight, which
is what the receiver's budget (:mod:`bitdust.transport.tcp.budget`) allows an authenticated peer.

Kept apart from :class:`~bitdust.transport.tcp.framing.FrameProtocol` (which owns the connection and
the receiving half) so each can be read alone; the protocol hands this class the few calls it needs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IPullProducer
from zope.interface import implementer

from bitdust.transport.errors import StreamAborted
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.frames import ABORT_BY_SENDER, FrameType
from bitdust.transport.tcp.wire import ProducerConsumer

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime


class StreamSource(Protocol):
    """What a stream is read from: a file-like object (``io.BytesIO`` for bytes)."""

    def read(self, size: int, /) -> bytes: ...


@attrs.frozen
class StreamProgress:
    stream_id: int
    direction: str  # "in" or "out"
    done: int
    total: int


@implementer(IPullProducer)
@attrs.define(eq=False)
class _Outgoing:
    """One queued or active outgoing stream; also the pull producer registered on the transport."""

    streams: OutgoingStreams
    stream_id: int
    reader: StreamSource
    total: int
    done: defer.Deferred[None]
    sent: int = 0
    stopped: bool = False

    def resumeProducing(self) -> None:
        if not self.stopped:
            self.streams.produce(self)

    def pauseProducing(self) -> None:
        """Pull producers are not paused; the transport simply stops pulling."""

    def stopProducing(self) -> None:
        self.stopped = True


class OutgoingStreams:
    """The queue of outgoing streams of one connection and the one being written.

    ``write(type, stream_id, body)`` writes one frame, ``consumer()`` is the transport to register
    the producer on, ``connected()`` says whether the connection still takes frames, and
    ``throttle(size)`` accounts for a written chunk and says how long to wait before the next.
    """

    def __init__(
        self,
        clock: IReactorTime,
        *,
        write: Callable[[FrameType, int, bytes], None],
        consumer: Callable[[], ProducerConsumer],
        connected: Callable[[], bool],
        throttle: Callable[[int], float] | None,
    ) -> None:
        self._clock = clock
        self._write = write
        self._consumer = consumer
        self._connected = connected
        self._throttle = throttle
        self._throttled: IDelayedCall | None = None
        self._queue: deque[_Outgoing] = deque()
        self._active: _Outgoing | None = None
        self._next_stream_id = 1

    def queue(self, source: StreamSource, total: int) -> defer.Deferred[None]:
        """Queue a stream of ``total`` bytes read from ``source``; fires once its END is written."""
        out = _Outgoing(self, self._next_stream_id, source, total, defer.Deferred())
        self._next_stream_id += 1
        self._queue.append(out)
        self._start_next()
        return out.done

    def _start_next(self) -> None:
        if self._active is not None or not self._queue or not self._connected():
            return
        out = self._active = self._queue.popleft()
        self._write(FrameType.STREAM_START, out.stream_id, frames.STREAM_TOTAL.pack(out.total))
        self._consumer().registerProducer(out, False)

    def produce(self, out: _Outgoing) -> None:
        """Write one chunk when the transport asks for more; END after the last one."""
        if self._active is not out or not self._connected() or self._throttled is not None:
            return
        remaining = out.total - out.sent
        if remaining == 0:
            self._write(FrameType.STREAM_END, out.stream_id, b"")
            self._finish(out, None)
            return
        chunk = out.reader.read(min(frames.MAX_CHUNK, remaining))
        if not chunk:
            self._write(FrameType.STREAM_ABORT, out.stream_id, ABORT_BY_SENDER)
            self._finish(out, StreamAborted("source ended early"))
            return
        out.sent += len(chunk)
        self._write(FrameType.STREAM_CHUNK, out.stream_id, chunk)
        wait = self._throttle(len(chunk)) if self._throttle is not None else 0.0
        if wait > 0:
            # Over the send limit: the next chunk waits, whatever the transport asks meanwhile.
            self._throttled = self._clock.callLater(wait, self._unthrottle, out)

    def _unthrottle(self, out: _Outgoing) -> None:
        self._throttled = None
        self.produce(out)

    def cancelled_by_peer(self, stream_id: int) -> None:
        """The receiver refused the rest of ``stream_id``: stop it (if it is the one being written)."""
        out = self._active
        if out is not None and out.stream_id == stream_id:
            self._finish(out, StreamAborted("cancelled by peer"))

    def _finish(self, out: _Outgoing, failure: Exception | None) -> None:
        if failure is not None and out.sent < out.total:
            # Acknowledge a cancel so the receiver can forget the stream.
            if isinstance(failure, StreamAborted) and str(failure) == "cancelled by peer":
                self._write(FrameType.STREAM_ABORT, out.stream_id, ABORT_BY_SENDER)
        out.stopped = True
        self._active = None
        self._consumer().unregisterProducer()
        if failure is None:
            out.done.callback(None)
        else:
            out.done.errback(failure)
        self._start_next()

    def lost(self) -> None:
        """The connection is gone: every queued or active stream fails with StreamAborted."""
        if self._throttled is not None and self._throttled.active():
            self._throttled.cancel()
        self._throttled = None
        pending = ([self._active] if self._active else []) + list(self._queue)
        self._active = None
        self._queue.clear()
        for out in pending:
            out.stopped = True
            out.done.errback(StreamAborted("connection lost"))

    def progress(self) -> list[StreamProgress]:
        """The active stream's progress, then the queued ones (nothing sent yet)."""
        result = []
        if self._active is not None:
            result.append(StreamProgress(self._active.stream_id, "out", self._active.sent, self._active.total))
        result.extend(StreamProgress(o.stream_id, "out", 0, o.total) for o in self._queue)
        return result
