"""WebSocket: a real autobahn client and server talking over in-memory transports (iosim)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import Logger
from twisted.test import iosim

from bitdust.interface.websocket import ApiWebSocketFactory, ApiWebSocketProtocol, make_ws_factory
from tests.interface import fake_api

SERVER_ADDRESS = IPv4Address("TCP", "127.0.0.1", 8280)
HANDSHAKE = (
    "GET /{query} HTTP/1.1\r\nHost: 127.0.0.1:8280\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
NO_TIMERS = {"openHandshakeTimeout": 0, "closeHandshakeTimeout": 0}  # autobahn's timers use the global reactor


class RecordingClient(WebSocketClientProtocol):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Any] = []
        self.opened = False
        self.closed: tuple[bool, int | None, str | None] | None = None

    def onOpen(self) -> None:  # noqa: N802
        self.opened = True

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        self.frames.append(json.loads(payload))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self.closed = (wasClean, code, reason)

    def call(self, method: str, kwargs: Any = None, call_id: Any = None) -> None:
        frame: dict[str, Any] = {"command": "api_call", "method": method, "call_id": call_id}
        if kwargs is not None:
            frame["kwargs"] = kwargs
        self.sendMessage(json.dumps(frame).encode())

    def take(self) -> list[Any]:
        frames, self.frames = self.frames, []
        return frames


class Connection:
    def __init__(self, factory: ApiWebSocketFactory, query: str = "", host: str = "127.0.0.1") -> None:
        peer = IPv4Address("TCP", host, 40001)
        self.server: ApiWebSocketProtocol = factory.buildProtocol(peer)
        client_factory = WebSocketClientFactory(f"ws://127.0.0.1:8280/{query}", reactor=MemoryReactorClock())
        client_factory.protocol = RecordingClient
        client_factory.setProtocolOptions(serverConnectionDropTimeout=0, **NO_TIMERS)
        self.client: RecordingClient = client_factory.buildProtocol(SERVER_ADDRESS)
        self.server_transport = iosim.FakeTransport(self.server, True, SERVER_ADDRESS, peer)
        self.client_transport = iosim.FakeTransport(self.client, False, peer, SERVER_ADDRESS)
        self.pump = iosim.connect(self.server, self.server_transport, self.client, self.client_transport)

    def flush(self) -> list[Any]:
        self.pump.flush()
        return self.client.take()


@pytest.fixture
def engine() -> fake_api.FakeEngine:
    return fake_api.FakeEngine()


@pytest.fixture
def secret() -> dict[str, str | None]:
    return {"value": None}


@pytest.fixture
def factory(engine: fake_api.FakeEngine, secret: dict[str, str | None]) -> ApiWebSocketFactory:
    log = Logger(observer=lambda event: None)
    registry = fake_api.make_registry(engine, log=log)
    made = make_ws_factory(registry, lambda: secret["value"], url="ws://127.0.0.1:8280", log=log, max_queue=5)
    made.setProtocolOptions(**NO_TIMERS)
    return made


@pytest.fixture
def conn(factory: ApiWebSocketFactory) -> Connection:
    connection = Connection(factory)
    assert connection.client.opened
    return connection


class HandshakeTransport(StringTransport):
    """autobahn unregisters its producer when it refuses a handshake, registered or not."""

    def unregisterProducer(self) -> None:  # noqa: N802 - Twisted's name
        self.producer = None


def raw_handshake(factory: ApiWebSocketFactory, query: str = "", host: str = "127.0.0.1") -> bytes:
    transport = HandshakeTransport(peerAddress=IPv4Address("TCP", host, 40002), hostAddress=SERVER_ADDRESS)
    protocol = factory.buildProtocol(transport.getPeer())
    protocol.makeConnection(transport)
    protocol.dataReceived(HANDSHAKE.format(query=query).encode())
    return transport.value()


# -- handshake --------------------------------------------------------------------------------


def test_handshake_without_secret_configured(factory: ApiWebSocketFactory) -> None:
    assert raw_handshake(factory).startswith(b"HTTP/1.1 101")


def test_handshake_401_without_or_with_wrong_secret(factory: ApiWebSocketFactory, secret: dict[str, Any]) -> None:
    secret["value"] = "s3cret"
    assert raw_handshake(factory).startswith(b"HTTP/1.1 401")
    assert raw_handshake(factory, "?api_secret=wrong").startswith(b"HTTP/1.1 401")
    assert raw_handshake(factory, "?api_secret=s3cret").startswith(b"HTTP/1.1 101")


def test_handshake_takes_the_secret_as_a_too(factory: ApiWebSocketFactory, secret: dict[str, Any]) -> None:
    secret["value"] = "s3cret"
    assert raw_handshake(factory, "?a=s3cret").startswith(b"HTTP/1.1 101")
    assert raw_handshake(factory, "?a=wrong").startswith(b"HTTP/1.1 401")
    assert Connection(factory, "?a=s3cret&_=1712345").client.opened


@pytest.mark.parametrize(
    "query", ["?a=s3cret&api_secret=s3cret", "?api_secret=s3cret&api_secret=s3cret", "?a=s3cret&a=wrong"]
)
def test_handshake_with_the_secret_given_twice_is_refused(
    factory: ApiWebSocketFactory, secret: dict[str, Any], query: str
) -> None:
    secret["value"] = "s3cret"
    answer = raw_handshake(factory, query)
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"api_secret given more than once" in answer


def test_handshake_403_for_a_remote_peer(factory: ApiWebSocketFactory) -> None:
    assert raw_handshake(factory, host="10.0.0.7").startswith(b"HTTP/1.1 403")


def test_client_with_the_secret_opens(factory: ApiWebSocketFactory, secret: dict[str, Any]) -> None:
    secret["value"] = "s3cret"
    refused = Connection(factory, "?api_secret=nope")
    assert not refused.client.opened
    accepted = Connection(factory, "?api_secret=s3cret")
    assert accepted.client.opened
    assert len(factory.clients_info()) == 1


# -- calls ------------------------------------------------------------------------------------


def test_api_call_round_trip(conn: Connection) -> None:
    conn.client.call("fake_echo", {"text": "hi", "times": 2}, call_id="c-1")
    assert conn.flush() == [
        {
            "type": "api_call",
            "payload": {
                "call_id": "c-1",
                "response": {"status": "OK", "result": {"text": "hi", "times": 2}, "execution": "0.000107"},
            },
        }
    ]


def test_errors_come_back_as_envelopes(conn: Connection) -> None:
    conn.client.call("fake_bad", call_id=1)
    conn.client.call("fake_crash", {}, call_id=2)
    conn.client.call("fake_echo", {"text": 5}, call_id=3)
    conn.client.call("no_such_method", {}, call_id=4)
    answers = {f["payload"]["call_id"]: f["payload"]["response"] for f in conn.flush()}
    assert answers[1]["errors"] == ["that will never work"]
    assert answers[2]["errors"] == ["internal error: RuntimeError; see the engine log"]
    assert answers[3]["errors"] == ["parameter text: expected string, got 5"]
    assert answers[4]["errors"] == ["unknown method: no_such_method"]


@pytest.mark.parametrize(
    ("payload", "call_id", "error"),
    [
        (b"{not json", None, "frame is not valid JSON"),
        (b"[1, 2]", None, "frame must be a JSON object"),
        (b'{"command": "subscribe", "call_id": 7}', 7, 'unknown command: "subscribe"; expected api_call'),
        (b'{"command": "api_call", "call_id": 8}', 8, "method must be a non-empty string"),
        (b'{"command": "api_call", "method": "fake_health", "kwargs": [1], "call_id": 9}', 9, "kwargs must be"),
    ],
)
def test_malformed_frames_are_answered_and_the_connection_stays(
    conn: Connection, payload: bytes, call_id: Any, error: str
) -> None:
    conn.client.sendMessage(payload)
    [frame] = conn.flush()
    assert frame["type"] == "api_call"
    assert frame["payload"]["call_id"] == call_id
    assert frame["payload"]["response"]["status"] == "ERROR"
    assert frame["payload"]["response"]["errors"][0].startswith(error)
    conn.client.call("fake_health", call_id="after")
    assert conn.flush()[0]["payload"]["response"]["status"] == "OK"
    assert conn.client.closed is None


@pytest.mark.parametrize(
    ("payload", "call_id", "error"),
    [
        (b'{"command": "api_call", "method": "fake_items_add", "kwargs": {"items": [NaN]}, "call_id": 1}', 1,
         "parameter items: NaN is not a JSON number"),
        (b'{"command": "api_call", "method": "fake_items_add", "kwargs": {"items": [], "options": {"x": Infinity}},'
         b' "call_id": 2}', 2, "parameter options: Infinity is not a JSON number"),
        (b'{"command": "api_call", "method": "fake_any", "kwargs": {"value": -Infinity}, "call_id": 3}', 3,
         "parameter value: -Infinity is not a JSON number"),
        (b'{"command": "api_call", "method": "fake_items_add", "kwargs": {"items": ["\\ud800"]}, "call_id": 4}', 4,
         "parameter items: not valid Unicode text (lone surrogate U+D800)"),
        (b'{"command": "api_call", "method": "fake_any", "kwargs": {"value": {"\\udc00": 1}}, "call_id": 5}', 5,
         'parameter value: the key "\\udc00" is not valid Unicode text'),
        (b'{"command": "api_call", "method": "fake_echo", "kwargs": {"\\ud800": 1}, "call_id": 6}', 6,
         'parameter name "\\ud800" is not valid Unicode text'),
        (b'{"command": "api_call", "method": "fake_\\ud800", "call_id": 7}', 7,
         "frame field method: not valid Unicode text"),
        (b'{"command": "api_call", "method": "fake_echo", "call_id": "\\ud800"}', None,
         "frame field call_id: not valid Unicode text"),
        (b'{"command": "api_call", "method": "fake_echo", "call_id": [1, "\\ud800"]}', None,
         "frame field call_id: not valid Unicode text (lone surrogate U+D800) (at call_id[1])"),
        (b'{"command": "api_call", "method": "fake_echo", "kwargs": {"text": "a", "text": "b"}, "call_id": 8}', 8,
         "parameter text given more than once in the frame"),
        (b'{"command": "api_call", "method": "fake_any", "kwargs": {"value": {"k": 1, "k": 2}}, "call_id": 9}', 9,
         'parameter value: the key "k" appears more than once'),
        (b'{"command": "api_call", "method": "fake_echo", "call_id": 10, "call_id": 11}', None,
         'frame: the key "call_id" appears more than once'),
    ],
)  # fmt: skip
def test_frames_that_are_not_strict_json_or_text_are_refused_for_their_call(
    conn: Connection, engine: fake_api.FakeEngine, payload: bytes, call_id: Any, error: str
) -> None:
    conn.client.sendMessage(payload)
    [frame] = conn.flush()
    assert frame["payload"]["call_id"] == call_id
    assert frame["payload"]["response"]["status"] == "ERROR"
    assert frame["payload"]["response"]["errors"][0].startswith(error), frame
    assert engine.calls == []
    conn.client.call("fake_echo", {"text": "after"}, call_id="after")
    assert conn.flush()[0]["payload"]["response"]["result"] == {"text": "after", "times": 1}
    assert conn.client.closed is None


def test_kwargs_starting_with_an_underscore_are_not_skipped(conn: Connection) -> None:
    conn.client.call("fake_echo", {"text": "a", "_": 1}, call_id=1)
    [frame] = conn.flush()
    assert frame["payload"]["response"]["errors"][0].startswith("unknown parameter: _")


def test_an_answer_that_cannot_be_encoded_is_still_answered(conn: Connection) -> None:
    conn.client.call("fake_nan", {}, call_id="nan")
    conn.client.call("fake_refuse_badly", {}, call_id="bad")
    answers = {f["payload"]["call_id"]: f["payload"]["response"] for f in conn.flush()}
    assert answers["nan"]["errors"] == ["internal error: ValueError; see the engine log"]
    assert answers["bad"]["errors"] == ["internal error: see the engine log"]
    assert conn.client.closed is None


def test_binary_frames_are_refused(conn: Connection) -> None:
    conn.client.sendMessage(b'{"command": "api_call", "method": "fake_health"}', isBinary=True)
    [frame] = conn.flush()
    assert frame["payload"]["response"]["errors"] == ["binary frames are not accepted: send JSON text"]
    assert conn.client.closed is None


def test_a_long_poll_does_not_block_other_calls(conn: Connection, engine: fake_api.FakeEngine) -> None:
    conn.client.call("fake_listen", {"consumer_id": "ui"}, call_id="poll")
    conn.client.call("fake_echo", {"text": "quick"}, call_id="quick")
    assert [f["payload"]["call_id"] for f in conn.flush()] == ["quick"]
    assert conn.server.info()["calls_pending"] == 1
    engine.listeners["ui"].callback(["event"])
    [frame] = conn.flush()
    assert frame["payload"] == {
        "call_id": "poll",
        "response": {"status": "OK", "result": ["event"], "execution": frame["payload"]["response"]["execution"]},
    }


def test_pending_calls_are_cancelled_when_the_socket_closes(conn: Connection, engine: fake_api.FakeEngine) -> None:
    conn.client.call("fake_listen", {"consumer_id": "ui"}, call_id="poll")
    conn.flush()
    conn.client.sendClose()
    conn.flush()
    assert engine.cancelled == ["ui"]
    assert conn.server.info()["calls_pending"] == 0


# -- push and the slow client bound -----------------------------------------------------------


def test_broadcast_reaches_every_open_client(factory: ApiWebSocketFactory) -> None:
    first, second = Connection(factory), Connection(factory)
    frame = {"type": "event", "payload": {"event_id": "e", "data": {"n": 1}}}
    assert factory.broadcast(frame) == 2
    assert first.flush() == [frame]
    assert second.flush() == [frame]
    second.client.sendClose()
    second.flush()
    assert factory.broadcast(frame) == 1
    assert [c["frames_sent"] for c in factory.clients_info()] == [2]


def test_broadcast_of_something_json_cannot_carry_is_skipped(conn: Connection, factory: ApiWebSocketFactory) -> None:
    assert factory.broadcast({"type": "event", "payload": object()}) == 0
    assert conn.flush() == []


def test_the_protocol_is_the_producer_of_its_transport(conn: Connection) -> None:
    assert conn.server_transport.producer is conn.server
    assert conn.server_transport.streamingProducer


def test_paused_client_queues_and_resume_flushes_in_order(conn: Connection, factory: ApiWebSocketFactory) -> None:
    conn.server.pauseProducing()  # what Twisted does when the socket's write buffer is full
    for n in range(3):
        factory.broadcast({"type": "event", "payload": n})
    conn.client.call("fake_health", call_id="x")
    assert conn.flush() == []
    assert conn.server.info()["frames_queued"] == 4
    conn.server.resumeProducing()
    frames = conn.flush()
    assert [f["payload"] for f in frames[:3]] == [0, 1, 2]
    assert frames[3]["payload"]["call_id"] == "x"
    assert conn.server.info()["frames_queued"] == 0


def test_a_client_that_never_reads_is_dropped(conn: Connection, factory: ApiWebSocketFactory) -> None:
    conn.server.pauseProducing()
    for n in range(6):  # max_queue is 5
        factory.broadcast({"type": "event", "payload": n})
    assert factory.slow_clients_dropped == 1
    assert conn.server.info()["frames_queued"] == 0
    assert conn.server.info()["frames_dropped"] == 6
    assert factory.clients_info() == []
    assert factory.broadcast({"type": "event", "payload": "later"}) == 0
    conn.pump.flush()
    assert conn.server_transport.disconnected
    assert conn.client.closed is not None
    assert conn.client.closed[1] == 1008


def test_close_all_says_going_away_and_cancels_calls(
    conn: Connection, factory: ApiWebSocketFactory, engine: fake_api.FakeEngine
) -> None:
    conn.client.call("fake_listen", {"consumer_id": "ui"}, call_id="poll")
    conn.flush()
    factory.close_all()
    assert engine.cancelled == ["ui"]
    conn.pump.flush()
    assert conn.client.closed is not None
    assert conn.client.closed[1] == 1001
    assert factory.clients_info() == []


def frame(first: int, payload: bytes, *, masked: bool = True) -> bytes:
    """One raw client frame: ``first`` is the FIN/RSV/opcode byte; short payloads only."""
    assert len(payload) < 126
    if not masked:
        return bytes([first, len(payload)]) + payload
    key = b"\x01\x02\x03\x04"
    return bytes([first, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


CALL = b'{"command": "api_call", "method": "fake_health", "call_id": 1}'


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (frame(0x81, CALL, masked=False), 1002),  # a client frame must be masked
        (frame(0x83, CALL), 1002),  # reserved data opcode
        (frame(0x8B, b""), 1002),  # reserved control opcode
        (frame(0xC1, CALL), 1002),  # RSV1 without an extension
        (frame(0x81, b'{"method": "\xff\xfe"}'), 1007),  # a text frame that is not UTF-8
    ],
    ids=["unmasked", "data-opcode-3", "control-opcode-11", "rsv1", "invalid-utf8"],
)
def test_protocol_errors_end_with_a_close_frame_and_its_code(
    conn: Connection, engine: fake_api.FakeEngine, raw: bytes, code: int
) -> None:
    conn.client_transport.write(raw)
    conn.pump.flush()
    assert conn.client.closed is not None
    was_clean, close_code, _reason = conn.client.closed
    assert (was_clean, close_code) == (True, code)
    assert conn.server_transport.disconnected
    assert engine.calls == []
    assert conn.server.info()["open"] is False


def test_oversized_messages_close_the_connection_with_1009(engine: fake_api.FakeEngine) -> None:
    registry = fake_api.make_registry(engine, log=Logger(observer=lambda e: None))
    small = make_ws_factory(registry, lambda: None, url="ws://127.0.0.1:8280", max_message_size=100)
    small.setProtocolOptions(**NO_TIMERS)
    conn = Connection(small)
    conn.client.call("fake_echo", {"text": "x" * 200})
    conn.pump.flush()
    assert conn.client.closed is not None
    assert conn.client.closed[:2] == (True, 1009)
    assert engine.calls == []
