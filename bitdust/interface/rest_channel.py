"""The REST API's HTTP connection: head size limits answered with a status, and closing that lets the answer arrive.

twisted.web's ``HTTPChannel`` meets an over-long request line or header section by closing the
connection (``LineReceiver.lineLengthExceeded``) or by a bare ``400`` without a body. A client
then cannot tell "URL too long" from a crash. :class:`ApiChannel` checks the same limits itself,
before Twisted does, and answers 414 (request line too long) or 431 (header section too large)
with the JSON envelope.

Refusing a request early means the client may still be sending it. Closing the socket with unread
bytes in it makes the kernel send a reset, and a reset can destroy the answer before the client
reads it (RFC 9112 section 9.6, "tear-down"). So a refused connection *lingers*: the answer is
written, the write side is shut down
(the client reads the answer and then end of stream), everything the client still sends is
thrown away, and the connection is closed when the client closes it, or aborted after
``linger_seconds``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from twisted.internet.interfaces import IDelayedCall, IPushProducer, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure
from twisted.web import http

from bitdust.interface.api import envelope

if TYPE_CHECKING:
    from bitdust.interface.rest import ApiSite

JSON_TYPE = b"application/json; charset=utf-8"

MAX_LINE = 16 * 1024
"""The longest request line (and the longest single header line) in bytes."""

MAX_HEAD = 32 * 1024
"""The most bytes of request line plus headers."""

MAX_HEADER_LINES = 200


def error_response(code: int, phrase: bytes, message: str) -> bytes:
    """A complete HTTP/1.1 answer carrying an error envelope, ending the connection."""
    body = envelope.encode(envelope.error([message], 0.0), pretty=True)
    head = [
        b"HTTP/1.1 %d %s" % (code, phrase),
        b"Content-Type: " + JSON_TYPE,
        b"Content-Length: %d" % len(body),
        b"Cache-Control: no-store",
        b"Connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class ApiChannel(http.HTTPChannel):
    """An ``HTTPChannel`` with our head limits and a lingering close for refused requests."""

    MAX_LENGTH = MAX_LINE
    max_head = MAX_HEAD
    max_header_lines = MAX_HEADER_LINES
    # Twisted's own checks sit above ours, so that ours (which answer properly) always come first.
    totalHeadersSize = MAX_HEAD + MAX_LINE
    maxHeaders = MAX_HEADER_LINES + 1
    linger_seconds = 5.0
    #: set by ``Site.buildProtocol`` before the connection is made (HTTPChannel does not declare it)
    site: ApiSite

    def __init__(self) -> None:
        super().__init__()
        self.lingering = False
        self._in_head = False
        self._head_bytes = 0
        self._head_lines = 0
        self._linger_call: IDelayedCall | None = None

    # -- limits ---------------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted hook
        if self.lingering:
            return
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> bool | None:  # noqa: N802 - Twisted hook
        if self.lingering:
            return True  # stops LineReceiver's loop over the rest of the buffer
        if not self._in_head:
            if line:  # the request line (an empty line before it is tolerated, as Twisted does)
                self._in_head = True
                self._head_bytes = len(line)
                self._head_lines = 0
        elif not line:
            self._in_head = False
        else:
            self._head_bytes += len(line)
            self._head_lines += 1
            if self._head_bytes > self.max_head or self._head_lines > self.max_header_lines:
                self._refuse_head()
                return True
        return super().lineReceived(line)

    def rawDataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted hook
        # LineReceiver empties its buffer before this call, so returning here ends its loop too.
        if self.lingering:
            return
        super().rawDataReceived(data)

    def lineLengthExceeded(self, line: bytes) -> None:  # noqa: N802 - Twisted hook
        if self._in_head:
            self._refuse_head()
        else:
            self.refuse_and_close(414, b"URI Too Long", f"request line too long: the limit is {self.MAX_LENGTH} bytes")

    def _refuse_head(self) -> None:
        self.refuse_and_close(
            431,
            b"Request Header Fields Too Large",
            f"request headers too large: the limits are {self.max_head} bytes, "
            f"{self.max_header_lines} header lines and {self.MAX_LENGTH} bytes a line",
        )

    # -- refusing and lingering -----------------------------------------------------------------

    def _tcp(self) -> ITCPTransport:
        """The connected transport: ApiServers listens with TCP only, so it provides ITCPTransport."""
        assert self.transport is not None, "the channel is not connected"
        return cast(ITCPTransport, self.transport)

    def refuse_and_close(self, code: int, phrase: bytes, message: str) -> None:
        """Answer ``code`` with ``message`` now, whatever the state of the request, and linger."""
        if self.lingering:
            return
        self.lingering = True
        transport = self._tcp()
        transport.write(error_response(code, phrase, message))
        self.setTimeout(None)
        # a transport that cannot half-close (not TCP: a test's StringTransport) is closed instead
        half_close = getattr(transport, "loseWriteConnection", None)
        if half_close is None:
            self.loseConnection()
            return
        self._networkProducer.unregisterProducer()
        # keep reading (and discarding) until the client closes; a TCP transport is its own producer
        cast(IPushProducer, transport).resumeProducing()
        half_close()
        self._linger_call = self.callLater(self.linger_seconds, self._linger_over)

    def _linger_over(self) -> None:
        self._linger_call = None
        self._tcp().abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802 - Twisted hook
        if self._linger_call is not None and self._linger_call.active():
            self._linger_call.cancel()
        self._linger_call = None
        super().connectionLost(reason)
