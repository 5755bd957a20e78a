"""The WebSocket side of the API: calls in, answers and pushed events out.

A client sends ``{"command": "api_call", "method": ..., "kwargs": {...}, "call_id": ...}`` and gets
``{"type": "api_call", "payload": {"call_id": ..., "response": <envelope>}}``. Each call runs on its
own Deferred, so a long poll never holds up the calls behind it; calls still running when the
socket closes are cancelled. A malformed frame is answered with an error envelope and the
connection stays open: one bad frame from a UI must not cost it its event stream. Frames are
decoded by :mod:`bitdust.interface.api.decoding`, the same strict check as a REST body: NaN,
lone surrogates and repeated keys anywhere in the frame are refused for that ``call_id`` before
the method runs (with ``call_id`` null when the fault is in the call_id itself). Keyword
arguments are taken as given: unlike the REST query string, no ``_``-prefixed name is skipped,
because a JSON frame has no cache to bust and a silently dropped argument would hide a typo.

The handshake takes the secret as ``?api_secret=`` or as ``?a=`` (the original client's name);
given more than once, in either or both, it is refused (401) rather than one being picked.

A frame that breaks the WebSocket protocol (a message over the size limit, an unmasked client
frame, a reserved opcode, a text frame that is not UTF-8) ends the connection with a close frame
carrying the code for it (1009, 1002, 1007) instead of a dropped TCP connection
(autobahn's ``failByDrop`` is off), so the client can tell what it did wrong.

The engine also pushes frames (``event``, ``model``, ``stream_message``) to every client with
:meth:`ApiWebSocketFactory.broadcast`. A client that stops reading must not make the engine's
memory grow: each protocol is the streaming producer of its own transport, so Twisted pauses it
when the socket's write buffer is full. While paused, frames wait in a bounded queue; a client
whose queue passes ``max_queue`` frames is dropped (close code 1008) and counted.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet import defer
from twisted.internet.interfaces import IConsumer, IPushProducer, ITransport
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from bitdust.interface.api import decoding, envelope
from bitdust.interface.api.registry import ApiRegistry, CallResult
from bitdust.interface.rest import is_loopback, secret_matches

DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024
CLOSE_POLICY_VIOLATION = 1008
CLOSE_GOING_AWAY = 1001
SECRET_PARAMS = ("api_secret", "a")


@implementer(IPushProducer)
class ApiWebSocketProtocol(WebSocketServerProtocol):
    """One client connection; also the push producer registered on its transport."""

    factory: ApiWebSocketFactory

    def __init__(self) -> None:
        super().__init__()
        self.client_id = 0
        self.serving = False
        self.paused = False
        self.frames_sent = 0
        self.frames_dropped = 0
        self.calls_received = 0
        self._queue: deque[bytes] = deque()
        self._pending: set[defer.Deferred[CallResult]] = set()

    # -- handshake and life cycle ---------------------------------------------------------------

    def _connected(self) -> ITransport:
        """The transport; autobahn calls the handshake and open hooks only while connected."""
        assert self.transport is not None, "the WebSocket protocol is not connected"
        return self.transport

    def onConnect(self, request: ConnectionRequest) -> None:  # noqa: N802 - autobahn hook
        peer = self._connected().getPeer()
        if not is_loopback(getattr(peer, "host", None)):
            raise ConnectionDeny(ConnectionDeny.FORBIDDEN, "the API only serves local clients")
        given = [value for name in SECRET_PARAMS for value in request.params.get(name, [])]
        if not secret_matches(self.factory.secret(), given):
            if len(given) > 1:
                raise ConnectionDeny(401, "api_secret given more than once")
            raise ConnectionDeny(401, "missing or wrong api_secret")

    def onOpen(self) -> None:  # noqa: N802 - autobahn hook
        self.serving = True
        # a TCP transport is also the consumer our frames go to, and pauses us when it is full
        cast(IConsumer, self._connected()).registerProducer(self, True)
        self.factory.client_opened(self)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self._forget()
        for call in list(self._pending):
            call.cancel()

    def _forget(self) -> None:
        if self.serving:
            self.serving = False
            self.factory.client_closed(self)
        self._queue.clear()

    # -- IPushProducer: Twisted tells us when the client's socket cannot take more ------------

    def pauseProducing(self) -> None:  # noqa: N802 - Twisted hook
        self.paused = True

    def resumeProducing(self) -> None:  # noqa: N802 - Twisted hook
        self.paused = False
        while self._queue and not self.paused and self.serving:
            self._write(self._queue.popleft())

    def stopProducing(self) -> None:  # noqa: N802 - Twisted hook
        self.paused = True
        self._queue.clear()

    # -- outgoing frames ------------------------------------------------------------------------

    def send_frame(self, data: bytes) -> None:
        """Send an encoded JSON frame now, or queue it while the client is not reading."""
        if not self.serving:
            self.frames_dropped += 1
            return
        if self.paused or self._queue:
            self._queue.append(data)
            if len(self._queue) > self.factory.max_queue:
                self._drop_slow_client()
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        self.frames_sent += 1
        self.sendMessage(data, isBinary=False)

    def _drop_slow_client(self) -> None:
        """Free the queue and hang up: the close frame is best effort, the abort is not."""
        lost = len(self._queue)
        self.frames_dropped += lost
        self.factory.slow_clients_dropped += 1
        self.factory.log.warn(
            "WebSocket client {peer} dropped: {lost} frames waiting, the limit is {limit}",
            peer=self.peer,
            lost=lost,
            limit=self.factory.max_queue,
        )
        self._forget()
        if self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=CLOSE_POLICY_VIOLATION, reasonUtf8=b"client too slow: frame queue full")
        self.dropConnection(abort=True)

    def close_going_away(self, reason: str) -> None:
        """Say goodbye (1001) and stop answering: the engine is stopping."""
        for call in list(self._pending):
            call.cancel()
        if self.state == self.STATE_OPEN:
            self._forget()
            self.sendCloseFrame(code=CLOSE_GOING_AWAY, reasonUtf8=reason.encode("utf-8")[:120])

    def _reply(self, call_id: object, answer: dict[str, Any]) -> None:
        """Send the answer to ``call_id``; one that cannot be encoded becomes a logged internal error."""
        frame = {"type": "api_call", "payload": {"call_id": call_id, "response": answer}}
        try:
            data = envelope.encode(frame)
        except (TypeError, ValueError, RecursionError):
            self.factory.log.failure("WebSocket answer to call {call_id} is not strict JSON", call_id=_short(call_id))
            internal = envelope.error(["internal error: see the engine log"], 0.0)
            data = envelope.encode({"type": "api_call", "payload": {"call_id": call_id, "response": internal}})
        self.send_frame(data)

    def _refuse(self, call_id: object, reason: str) -> None:
        self._reply(call_id, envelope.error([reason], 0.0))

    # -- incoming frames ------------------------------------------------------------------------

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803 - autobahn hook
        if isBinary:
            return self._refuse(None, "binary frames are not accepted: send JSON text")
        try:
            frame = decoding.loads(payload)
        except decoding.InvalidJson:
            return self._refuse(None, "frame is not valid JSON")
        if not isinstance(frame, dict):
            return self._refuse(None, "frame must be a JSON object")
        call_id = frame.get("call_id")
        problem = decoding.find_problem(frame)
        if problem is not None:
            if problem.path[:1] == ("call_id",) or (problem.path == () and problem.key == "call_id"):
                call_id = None  # what cannot be sent back, or is ambiguous, is not echoed
            return self._refuse(call_id, decoding.describe(problem, params_at=("kwargs",), document="frame"))
        command = frame.get("command")
        if command != "api_call":
            return self._refuse(call_id, f"unknown command: {_short(command)}; expected api_call")
        method = frame.get("method")
        if not isinstance(method, str) or not method:
            return self._refuse(call_id, "method must be a non-empty string")
        kwargs = frame.get("kwargs")
        if kwargs is None:
            kwargs = {}
        if not isinstance(kwargs, dict):
            return self._refuse(call_id, "kwargs must be a JSON object")
        if len(self._pending) >= self.factory.max_pending_calls:
            return self._refuse(call_id, f"too many calls in progress (limit {self.factory.max_pending_calls})")
        self.calls_received += 1
        call = self.factory.registry.call(method, kwargs, from_strings=False)
        self._pending.add(call)
        call.addBoth(self._call_done, call, call_id, method)

    def _call_done(
        self, result: CallResult | Failure, call: defer.Deferred[CallResult], call_id: object, method: str
    ) -> None:
        self._pending.discard(call)
        if isinstance(result, Failure):
            if result.check(defer.CancelledError):
                return None
            self.factory.log.failure("WebSocket call {method} failed", result, method=method)
            return self._reply(call_id, envelope.error(["internal error: see the engine log"], 0.0))
        _code, answer = result
        try:
            self._reply(call_id, answer)
        except Exception:
            self.factory.log.failure("WebSocket answer to {method} could not be sent", method=method)
        return None

    def info(self) -> dict[str, Any]:
        return {
            "id": self.client_id,
            "peer": self.peer,
            "open": self.serving,
            "paused": self.paused,
            "frames_sent": self.frames_sent,
            "frames_queued": len(self._queue),
            "frames_dropped": self.frames_dropped,
            "calls_received": self.calls_received,
            "calls_pending": len(self._pending),
        }


class ApiWebSocketFactory(WebSocketServerFactory):
    """Builds client protocols, knows the open ones, and pushes frames to them."""

    # autobahn's factory subclasses the unparameterized ServerFactory, so Twisted's default protocol
    # type applies (a typing Protocol whose ``factory`` is ``Factory[Self]``), which no protocol
    # naming its concrete factory can match; ApiWebSocketProtocol is what buildProtocol makes.
    protocol = ApiWebSocketProtocol  # type: ignore[assignment]
    noisy = False
    max_pending_calls = 1000

    def __init__(
        self,
        registry: ApiRegistry,
        secret: Callable[[], str | None],
        *,
        url: str,
        log: Logger,
        max_queue: int,
        max_message_size: int,
    ) -> None:
        super().__init__(url=url, server="BitDust")
        self.setProtocolOptions(failByDrop=False)
        self.registry = registry
        self.secret = secret
        self.log = log
        self.max_queue = max_queue
        self.slow_clients_dropped = 0
        self._clients: dict[ApiWebSocketProtocol, None] = {}
        self._ids = itertools.count(1)
        self.setProtocolOptions(maxMessagePayloadSize=max_message_size, maxFramePayloadSize=max_message_size)

    def client_opened(self, client: ApiWebSocketProtocol) -> None:
        client.client_id = next(self._ids)
        self._clients[client] = None

    def client_closed(self, client: ApiWebSocketProtocol) -> None:
        self._clients.pop(client, None)

    def broadcast(self, frame: dict[str, Any]) -> int:
        """Send ``frame`` to every open client; returns how many got it (sent or queued)."""
        if not self._clients:
            return 0
        try:
            data = envelope.encode(frame)
        except (TypeError, ValueError, RecursionError):
            self.log.failure("WebSocket frame of type {type} is not JSON", type=frame.get("type"))
            return 0
        reached = 0
        for client in list(self._clients):
            client.send_frame(data)
            reached += 1 if client.serving else 0
        return reached

    def clients_info(self) -> list[dict[str, Any]]:
        return [client.info() for client in self._clients]

    def close_all(self, reason: str = "engine stopping") -> None:
        for client in list(self._clients):
            client.close_going_away(reason)


def _short(value: object) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool | None) else type(value).__name__
    return text if len(text) <= 40 else text[:40] + "..."


def make_ws_factory(
    registry: ApiRegistry,
    secret: Callable[[], str | None],
    *,
    url: str,
    log: Logger | None = None,
    max_queue: int = 1000,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> ApiWebSocketFactory:
    """The WebSocket server factory; ``secret`` is read at every handshake (it may change)."""
    logger = log if log is not None else Logger(namespace="bitdust.interface.websocket")
    return ApiWebSocketFactory(
        registry, secret, url=url, log=logger, max_queue=max_queue, max_message_size=max_message_size
    )
