"""The WebSocket API: calls, pushed events, and the secret at the handshake."""

from __future__ import annotations

import uuid

import pytest

from bitdust.main.settings.config_types import Size
from tests.e2e.helpers import api, ok, secret_of, ws_call, ws_connect
from tests.e2e.wsclient import OP_TEXT, ConnectionClosed, HandshakeRefused, WsClient, encode_frame

pytestmark = pytest.mark.e2e


def test_api_call_round_trip(node) -> None:
    with ws_connect(node) as ws:
        response = ws_call(ws, "process_health", "1")
        assert response["status"] == "OK"
        assert response["result"] == {"alive": True, "state": "READY"}

        response = ws_call(ws, "config_get", "two", key="logs/debug-level")
        assert response["status"] == "OK"
        assert response["result"][0]["key"] == "logs/debug-level"

        response = ws_call(ws, "config_get", "3", key="no/such/option")
        assert response["status"] == "ERROR" and response["errors"]

        ws.ping(b"are you there")  # a ping in between does not disturb the calls
        assert ws_call(ws, "process_info", "4")["result"]["home"] == str(node.home)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"], ids=["absent", "empty", "wrong"])
def test_handshake_without_the_right_secret_is_refused_with_401(node, secret) -> None:
    with pytest.raises(HandshakeRefused) as refused:
        ws_connect(node, secret=secret)
    assert refused.value.status == 401
    assert ok(node, "GET", "process/health/v1")["alive"] is True


def test_event_send_is_pushed_to_websocket_clients(node) -> None:
    event_id = f"e2e-ws-{uuid.uuid4().hex[:8]}"
    with ws_connect(node) as ws:
        assert ws_call(ws, "process_health", "ready")["status"] == "OK"  # the connection is open on both ends

        status, envelope = api(node, "POST", f"event/send/{event_id}/v1", data={"k": [1, 2]})
        assert status == 200, envelope

        frame = ws.recv_until(
            lambda m: m.get("type") == "event" and m.get("payload", {}).get("event_id") == event_id, timeout=10
        )
        assert frame["payload"]["data"] == {"k": [1, 2]}
        assert isinstance(frame["payload"]["time"], int | float)


def test_event_sent_over_the_websocket_itself_is_pushed_back(node) -> None:
    event_id = f"e2e-ws-self-{uuid.uuid4().hex[:8]}"
    with ws_connect(node) as ws:
        response = ws_call(ws, "event_send", "send", event_id=event_id, data="x")
        assert response["status"] == "OK", response
        frame = ws.recv_until(
            lambda m: m.get("type") == "event" and m.get("payload", {}).get("event_id") == event_id, timeout=10
        )
        assert frame["payload"]["data"] == "x"


def test_the_secret_is_also_accepted_as_a(node) -> None:
    with WsClient(node.ws_port, f"/?a={secret_of(node)}&_=1712345") as ws:
        assert ws_call(ws, "process_health", "a")["status"] == "OK"
    with pytest.raises(HandshakeRefused) as refused:
        WsClient(node.ws_port, f"/?a={secret_of(node)}&api_secret={secret_of(node)}")
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("text", "call_id", "error"),
    [
        ('{"command": "api_call", "method": "event_send", "kwargs": {"event_id": "e2e-nan", "data": NaN}, '
         '"call_id": "nan"}', "nan", "parameter data: NaN is not a JSON number"),
        ('{"command": "api_call", "method": "event_send", "kwargs": {"event_id": "e2e-s", "data": "\\ud800"}, '
         '"call_id": "surrogate"}', "surrogate", "parameter data: not valid Unicode text"),
        ('{"command": "api_call", "method": "process_\\ud800", "call_id": "method"}', "method",
         "frame field method: not valid Unicode text"),
        ('{"command": "api_call", "method": "process_health", "call_id": "\\ud800"}', None,
         "frame field call_id: not valid Unicode text"),
        ('{"command": "api_call", "method": "config_get", "kwargs": {"key": "a", "key": "b"}, "call_id": "dup"}',
         "dup", "parameter key given more than once in the frame"),
    ],
    ids=["nan", "surrogate-data", "surrogate-method", "surrogate-call-id", "duplicate-key"],
)  # fmt: skip
def test_frames_that_are_not_strict_json_get_an_error_for_their_call(node, text: str, call_id, error: str) -> None:
    with ws_connect(node) as ws:
        ws.send_text(text)
        frame = ws.recv_until(lambda m: m.get("type") == "api_call", timeout=10)
        assert frame["payload"]["call_id"] == call_id
        assert frame["payload"]["response"]["errors"][0].startswith(error), frame
        assert ws_call(ws, "process_health", "after")["status"] == "OK"  # the connection stays


def _close_code_after(node, raw: bytes) -> int | None:
    with ws_connect(node) as ws:
        assert ws_call(ws, "process_health", "before")["status"] == "OK"
        ws.sock.sendall(raw)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv_until(lambda m: False, timeout=10)
        return closed.value.code


def _frame(first: int, payload: bytes, *, masked: bool = True) -> bytes:
    if masked:
        return bytes([first]) + encode_frame(0, payload)[1:]
    assert len(payload) < 126
    return bytes([first, len(payload)]) + payload


CALL = b'{"command": "api_call", "method": "process_health", "call_id": 1}'


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (_frame(0x81, CALL, masked=False), 1002),
        (_frame(0x83, CALL), 1002),
        (_frame(0x8B, b""), 1002),
        (_frame(0x81, b'{"method": "\xff\xfe"}'), 1007),
    ],
    ids=["unmasked", "reserved-data-opcode", "reserved-control-opcode", "invalid-utf8"],
)
def test_protocol_errors_end_with_a_close_frame_and_its_code(node, raw: bytes, code: int) -> None:
    assert _close_code_after(node, raw) == code
    assert ok(node, "GET", "process/health/v1")["alive"] is True


def test_a_message_over_the_limit_is_closed_with_1009(node) -> None:
    shown = ok(node, "GET", "config/get/v1", key="interface/api/max-request-size")[0]["value"]
    limit = Size().parse(shown)
    assert _close_code_after(node, encode_frame(OP_TEXT, b" " * (limit + 1))) == 1009
