"""A tiny synchronous WebSocket client (RFC 6455, text frames) for end-to-end tests.

Enough to talk to the engine the way a UI would: the opening handshake with
``Sec-WebSocket-Key``, masked text frames out, unmasked frames in (fragments reassembled),
ping answered with pong, close answered with close.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import time
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


class HandshakeRefused(Exception):
    """The server answered the opening handshake with something other than 101."""

    def __init__(self, status: int, reason: str, body: bytes) -> None:
        super().__init__(f"WebSocket handshake refused: HTTP {status} {reason}")
        self.status = status
        self.reason = reason
        self.body = body


class ConnectionClosed(Exception):
    """The server closed the WebSocket (or the TCP connection)."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"WebSocket closed (code {code}) {reason}".strip())
        self.code = code
        self.reason = reason


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def encode_frame(opcode: int, payload: bytes, *, mask_key: bytes | None = None, fin: bool = True) -> bytes:
    """One client frame; clients must mask (RFC 6455 section 5.3)."""
    mask_key = os.urandom(4) if mask_key is None else mask_key
    head = bytearray([(0x80 if fin else 0) | opcode])
    length = len(payload)
    if length < 126:
        head.append(0x80 | length)
    elif length < 1 << 16:
        head.append(0x80 | 126)
        head += struct.pack("!H", length)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", length)
    return bytes(head) + mask_key + _mask(payload, mask_key)


def _mask(payload: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WsClient:
    """``WsClient(port, path="/?api_secret=...")``; raises :class:`HandshakeRefused` on a non-101 answer."""

    def __init__(self, port: int, path: str = "/", *, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self._buffer = bytearray()
        self.backlog: list[Any] = []
        self.closed = False
        self.sock = socket.create_connection((host, port), timeout=timeout)
        try:
            self._handshake(host, port, path)
        except BaseException:
            self.sock.close()
            raise

    # -- opening handshake ------------------------------------------------------------------

    def _handshake(self, host: str, port: int, path: str) -> None:
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        request = (
            f"GET {path} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n"
        )
        self.sock.sendall(request.encode("ascii"))
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        self._buffer = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != 101:
            raise HandshakeRefused(status, reason, self._read_body(headers))
        if headers.get("sec-websocket-accept") != accept_key(key):
            raise HandshakeRefused(status, "bad Sec-WebSocket-Accept", b"")

    def _read_body(self, headers: dict[str, str]) -> bytes:
        length = int(headers.get("content-length") or 0)
        try:
            while len(self._buffer) < length:
                self._fill()
        except (ConnectionClosed, OSError):
            pass
        return bytes(self._buffer[:length])

    # -- frames -----------------------------------------------------------------------------

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            self.closed = True
            raise ConnectionClosed(None, "connection lost")
        self._buffer += chunk

    def _take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        first, second = self._take(2)
        fin = bool(first & 0x80)
        opcode = first & 0x0F
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        mask_key = self._take(4) if second & 0x80 else None
        payload = self._take(length)
        if mask_key is not None:
            payload = _mask(payload, mask_key)
        return fin, opcode, payload

    def send_text(self, text: str) -> None:
        self.sock.sendall(encode_frame(OP_TEXT, text.encode("utf-8")))

    def send_json(self, value: Any) -> None:
        self.send_text(json.dumps(value))

    def recv_text(self, timeout: float = 10.0) -> str:
        """The next text (or binary) message; answers pings; raises on close or timeout."""
        deadline = time.monotonic() + timeout
        parts: list[bytes] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no WebSocket message in time")
            self.sock.settimeout(remaining)
            fin, opcode, payload = self._read_frame()
            if opcode == OP_PING:
                self.sock.sendall(encode_frame(OP_PONG, payload))
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                if not self.closed:
                    self.closed = True
                    try:
                        self.sock.sendall(encode_frame(OP_CLOSE, payload[:2]))
                    except OSError:
                        pass
                raise ConnectionClosed(code, payload[2:].decode("utf-8", "replace"))
            if opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8")

    def recv_json(self, timeout: float = 10.0) -> Any:
        return json.loads(self.recv_text(timeout))

    def recv_until(self, predicate: Any, timeout: float = 10.0) -> Any:
        """The first JSON message satisfying ``predicate``.

        Messages that do not match are kept in ``self.backlog`` (in arrival order) and looked
        at first by the next call, so waiting for a call's answer does not lose an event frame
        that the server pushed before it.
        """
        for index, message in enumerate(self.backlog):
            if predicate(message):
                del self.backlog[index]
                return message
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv_json(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message
            self.backlog.append(message)

    def ping(self, payload: bytes = b"ping") -> None:
        self.sock.sendall(encode_frame(OP_PING, payload))

    def close(self, code: int = 1000, timeout: float = 2.0) -> None:
        """Send a close frame, wait briefly for the server's, then close the socket."""
        try:
            if not self.closed:
                self.closed = True
                self.sock.sendall(encode_frame(OP_CLOSE, struct.pack("!H", code)))
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                    _, opcode, _ = self._read_frame()
                    if opcode == OP_CLOSE:
                        break
        except (OSError, ConnectionClosed):
            pass
        finally:
            self.sock.close()

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
