"""Wire format of the TCP framing layer: the hello, frame headers, and an incremental decoder.

Kept apart from the protocol so the parsing rules (and their limits) can be tested as pure code.
The decoder never holds more than one frame's header plus its body: a length is checked against
the limit of its frame type as soon as the 9-byte header is complete, before any body is buffered.

Each side opens with a hello: ``BDTF``, the version (2), and a fresh random nonce of 32 bytes. The
nonce is the challenge of this connection: a peer proves who it is with one AUTH frame signed over
the other side's nonce (see :mod:`bitdust.transport.tcp.auth`), so nothing captured from another
connection (or from before a restart) can prove anything on this one. Version 1 had no nonce and is
refused.

Frames: a 9-byte header (type, stream id, body length; big-endian ``>BII``) and the body.
MESSAGE carries one packet; STREAM_START/CHUNK/END/ABORT carry a bigger one in pieces; PING/PONG
keep the connection alive; GOODBYE says why the sender closes; AUTH carries the sender's proof.
"""

from __future__ import annotations

import enum
import secrets
import struct
from collections.abc import Iterator

import attrs

from bitdust.transport.errors import ProtocolViolation

MAGIC = b"BDTF"
VERSION = 2
NONCE_SIZE = 32
HELLO = struct.Struct(f">4sH{NONCE_SIZE}s")
_MAGIC_VERSION = struct.Struct(">4sH")
HEADER = struct.Struct(">BII")
STREAM_TOTAL = struct.Struct(">Q")

MAX_MESSAGE = 256 * 1024
MAX_CHUNK = 256 * 1024
MAX_ABORT = 1
#: an AUTH body: two IDURLs of at most 256 bytes with their 2-byte lengths, and an RSA signature of
#: at most 8192 bits
MAX_AUTH = 2 * (2 + 256) + 1024


class FrameType(enum.IntEnum):
    MESSAGE = 1
    STREAM_START = 2
    STREAM_CHUNK = 3
    STREAM_END = 4
    STREAM_ABORT = 5
    PING = 6
    PONG = 7
    GOODBYE = 8
    AUTH = 9


# The largest body each frame type may carry; anything longer is a violation.
MAX_BODY = {
    FrameType.MESSAGE: MAX_MESSAGE,
    FrameType.STREAM_START: STREAM_TOTAL.size,
    FrameType.STREAM_CHUNK: MAX_CHUNK,
    FrameType.STREAM_END: 0,
    FrameType.STREAM_ABORT: MAX_ABORT,
    FrameType.PING: 0,
    FrameType.PONG: 0,
    FrameType.GOODBYE: 1,
    FrameType.AUTH: MAX_AUTH,
}
MAX_BUFFER = HEADER.size + MAX_MESSAGE

# STREAM_ABORT body: who aborts. The two directions have separate stream-id spaces.
ABORT_BY_SENDER = b"\x00"
ABORT_BY_RECEIVER = b"\x01"

# GOODBYE body: why the sender is about to close, so the peer can tell a quiet close from a lost peer.
GOODBYE_IDLE = b"\x00"
GOODBYE_SHUTDOWN = b"\x01"
GOODBYE_DUPLICATE = b"\x02"
GOODBYE_REASONS = {GOODBYE_IDLE: "idle", GOODBYE_SHUTDOWN: "shutdown", GOODBYE_DUPLICATE: "duplicate"}


@attrs.frozen
class Frame:
    type: FrameType
    stream_id: int
    #: bytes; for STREAM_CHUNK a memoryview of one piece of the chunk as it arrived (a chunk may come as
    #: several pieces, each non-empty unless the chunk itself was announced empty)
    body: bytes | memoryview
    #: False for a piece of a STREAM_CHUNK that more pieces follow
    complete: bool = True


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_SIZE)


def encode_hello(nonce: bytes | None = None) -> bytes:
    """Our hello; ``nonce`` is this connection's challenge (a fresh random one when not given)."""
    nonce = new_nonce() if nonce is None else nonce
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"a hello nonce has {NONCE_SIZE} bytes, not {len(nonce)}")
    return HELLO.pack(MAGIC, VERSION, nonce)


def encode_frame(frame_type: FrameType, stream_id: int = 0, body: bytes = b"") -> bytes:
    return HEADER.pack(frame_type, stream_id, len(body)) + body


class FrameDecoder:
    """Turns a byte stream into frames, checking the hello and every header's limits."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._hello_done = False
        self._header: tuple[FrameType, int, int] | None = None
        #: the nonce of the peer's hello, once it arrived
        self.peer_nonce: bytes | None = None

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a hello or frame."""
        return len(self._buf)

    def _take(self, data: memoryview, offset: int, need: int) -> int:
        """Move up to ``need - len(buf)`` bytes into the buffer; return the new offset."""
        count = min(need - len(self._buf), len(data) - offset)
        self._buf += data[offset : offset + count]
        return offset + count

    def feed(self, data: bytes) -> Iterator[Frame]:
        """Yield each frame completed by ``data``; raise :class:`ProtocolViolation` on bad input."""
        view = memoryview(data)
        offset = 0
        while offset < len(view):
            if not self._hello_done:
                offset = self._take(view, offset, HELLO.size)
                # Magic and version are judged as soon as they are in: a stranger speaking another
                # protocol is dropped at once, not after it happened to send 38 bytes.
                if len(self._buf) >= len(MAGIC) and self._buf[: len(MAGIC)] != MAGIC:
                    raise ProtocolViolation("bad-magic")
                if len(self._buf) >= _MAGIC_VERSION.size and _MAGIC_VERSION.unpack_from(self._buf)[1] != VERSION:
                    raise ProtocolViolation("bad-version")
                if len(self._buf) < HELLO.size:
                    return
                _magic, _version, nonce = HELLO.unpack(self._buf)
                self._buf.clear()
                self._hello_done = True
                self.peer_nonce = nonce
                continue
            if self._header is None:
                if not self._buf and len(view) - offset >= HEADER.size:
                    raw_type, stream_id, length = HEADER.unpack_from(view, offset)
                    offset += HEADER.size
                else:
                    offset = self._take(view, offset, HEADER.size)
                    if len(self._buf) < HEADER.size:
                        return
                    raw_type, stream_id, length = HEADER.unpack(self._buf)
                    self._buf.clear()
                try:
                    frame_type = FrameType(raw_type)
                except ValueError:
                    raise ProtocolViolation("unknown-type") from None
                if length > MAX_BODY[frame_type]:
                    raise ProtocolViolation("oversized-frame")
                self._header = (frame_type, stream_id, length)
            frame_type, stream_id, length = self._header
            if frame_type is FrameType.STREAM_CHUNK:
                # Chunk bodies are handed on piece by piece, as views of what was just read: the
                # consumer copies them once anyway, so buffering a whole chunk first would be a waste.
                # A chunk announced as empty still yields one empty piece (a violation upstream).
                take = min(length, len(view) - offset)
                if take == 0 and length > 0:
                    return
                piece = view[offset : offset + take]
                offset += take
                remaining = length - take
                self._header = (frame_type, stream_id, remaining) if remaining else None
                yield Frame(frame_type, stream_id, piece, complete=not remaining)
                continue
            if not self._buf and len(view) - offset >= length:
                # The whole body is in this read: one copy, straight out of it.
                body = bytes(view[offset : offset + length])
                offset += length
            else:
                offset = self._take(view, offset, length)
                if len(self._buf) < length:
                    return
                body = bytes(self._buf)
                self._buf.clear()
            self._header = None
            yield Frame(frame_type, stream_id, body)
