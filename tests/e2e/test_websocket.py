"""The WebSocket API: calls, pushed events, and the secret at the handshake."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.helpers import api, ok, ws_call, ws_connect
from tests.e2e.wsclient import HandshakeRefused

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
