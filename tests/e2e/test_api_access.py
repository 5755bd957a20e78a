"""The engine answers its API with the secret, refuses without it, and reports itself."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest

from bitdust import __version__
from bitdust.sandbox.launcher import engine_pids
from tests.e2e.helpers import api, ok, secret_of, ws_call, ws_connect

pytestmark = pytest.mark.e2e


def test_health_answers_with_the_secret(node) -> None:
    status, envelope = api(node, "GET", "process/health/v1")
    assert status == 200
    assert envelope["status"] == "OK"
    assert envelope["result"] == {"alive": True, "state": "READY"}
    assert float(envelope["execution"]) >= 0


@pytest.mark.parametrize("secret", ["", "wrong-secret"], ids=["missing", "wrong"])
def test_a_missing_or_wrong_secret_gets_401_and_nothing_runs(node, secret) -> None:
    before = ok(node, "GET", "config/get/v1", key="logs/debug-level")[0]["value"]
    pids = engine_pids(node.home)

    status, envelope = api(node, "GET", "process/health/v1", _secret=secret)
    assert status == 401
    assert envelope["status"] == "ERROR" and envelope["errors"]

    status, _ = api(node, "POST", "config/set/v1", _secret=secret, key="logs/debug-level", value=before + 3)
    assert status == 401
    status, _ = api(node, "GET", "process/stop/v1", _secret=secret)
    assert status == 401

    assert ok(node, "GET", "config/get/v1", key="logs/debug-level")[0]["value"] == before
    assert ok(node, "GET", "process/health/v1")["alive"] is True
    assert engine_pids(node.home) == pids


def test_process_info_reports_the_process(node) -> None:
    info = ok(node, "GET", "process/info/v1")
    assert info["pid"] in engine_pids(node.home)
    assert info["version"] == __version__
    assert info["home"] == str(node.home)
    assert isinstance(info["uptime"], int | float) and info["uptime"] >= 0
    assert isinstance(info["memory"]["rss"], int) and info["memory"]["rss"] > 1024 * 1024
    assert info["engine_state"] == "READY"


def test_unknown_route_is_404(node) -> None:
    status, envelope = api(node, "GET", "no/such/route/v1")
    assert status == 404
    assert envelope["status"] == "ERROR" and envelope["errors"]
    status, envelope = api(node, "POST", "process/health/v2")
    assert status == 404


# -- what a client sends is decoded strictly, and over-long requests are answered -------------


def raw_request(node, head: bytes, body: bytes = b"", *, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` on a fresh
    socket, read until the server closes or one whole answer arrived: ``(status, headers, body)``."""
    with socket.create_connection(("127.0.0.1", node.rest_port), timeout=timeout) as sock:
        if body:
            head += b"\r\nContent-Length: %d" % len(body)
        try:
            sock.sendall(head + b"\r\nConnection: close\r\n\r\n" + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused before reading it all; its answer is still there to read
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer_head, _, answer_body = data.partition(b"\r\n\r\n")
    lines = answer_head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, answer_body[: int(headers.get("content-length", len(answer_body)))]


def authorized(node, request_line: str) -> bytes:
    return f"{request_line}\r\nHost: 127.0.0.1\r\napi_secret: {secret_of(node)}".encode()


def debug_level(node) -> int:
    return ok(node, "GET", "config/get/v1", key="logs/debug-level")[0]["value"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"key": "logs/debug-level", "value": NaN}', "parameter value: NaN is not a JSON number"),
        (b'{"key": "logs/debug-level", "value": Infinity}', "parameter value: Infinity is not a JSON number"),
        (b'{"key": "logs/debug-level", "value": -Infinity}', "parameter value: -Infinity is not a JSON number"),
        (b'{"key": "logs/debug-level\\ud800", "value": 3}', "parameter key: not valid Unicode text"),
        (b'{"key": "logs/debug-level", "value": 3, "\\udc00": 1}', 'parameter name "\\udc00" is not valid'),
        (b'{"key": "logs/debug-level", "value": 3, "value": 4}', "parameter value given more than once in the body"),
    ],
    ids=["nan", "infinity", "minus-infinity", "surrogate-value", "surrogate-name", "duplicate-key"],
)
def test_non_strict_json_is_a_400_and_changes_nothing(node, body: bytes, error: str) -> None:
    before = debug_level(node)
    status, _headers, answer = raw_request(
        node, authorized(node, "POST /config/set/v1 HTTP/1.1") + b"\r\nContent-Type: application/json", body
    )
    envelope = json.loads(answer)
    assert status == 400, envelope
    assert envelope["errors"][0].startswith(error), envelope
    assert debug_level(node) == before


def test_event_data_with_a_lone_surrogate_is_refused_before_it_is_published(node) -> None:
    bad_id = f"e2e-surrogate-{uuid.uuid4().hex[:8]}"
    good_id = f"e2e-after-{uuid.uuid4().hex[:8]}"
    with ws_connect(node) as ws:
        assert ws_call(ws, "process_health", "ready")["status"] == "OK"
        status, envelope = api(node, "POST", f"event/send/{bad_id}/v1", data={"k": ["\ud800"]})
        assert status == 400, envelope
        assert envelope["errors"] == ["parameter data: not valid Unicode text (lone surrogate U+D800) (at data.k[0])"]
        assert api(node, "POST", f"event/send/{good_id}/v1", data="fine")[0] == 200
        pushed = ws.recv_until(
            lambda m: m.get("type") == "event" and m["payload"].get("event_id") in (bad_id, good_id), timeout=10
        )
        assert pushed["payload"]["event_id"] == good_id  # events arrive in order: the bad one never was


def test_query_and_path_text_must_be_utf8(node) -> None:
    status, _, answer = raw_request(node, authorized(node, "GET /config/get/v1?key=%ED%A0%80 HTTP/1.1"))
    assert (status, json.loads(answer)["errors"]) == (400, ["parameter key: the query string value is not valid UTF-8"])
    status, _, answer = raw_request(node, authorized(node, "GET /service/info/%ff/v1 HTTP/1.1"))
    assert (status, json.loads(answer)["errors"]) == (
        400,
        ["parameter service_name: the path segment is not valid UTF-8"],
    )


def test_a_cache_buster_in_the_query_is_ignored(node) -> None:
    status, _, answer = raw_request(node, authorized(node, "GET /process/health/v1?_=1712345 HTTP/1.1"))
    assert status == 200
    assert json.loads(answer)["result"]["alive"] is True


def test_two_api_secret_headers_are_a_401(node) -> None:
    before = debug_level(node)
    secret = secret_of(node)
    head = f"POST /config/set/v1 HTTP/1.1\r\nHost: x\r\napi_secret: {secret}\r\napi_secret: other".encode()
    status, _, answer = raw_request(node, head, json.dumps({"key": "logs/debug-level", "value": before + 1}).encode())
    assert status == 401
    assert json.loads(answer)["errors"] == ["unauthorized: api_secret header given more than once"]
    assert debug_level(node) == before


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (b"GET /process/health/v1?x=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x", 414),
        (b"GET /process/health/v1 HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 100_000, 431),
        (b"GET /process/health/v1 HTTP/1.1\r\nHost: x" + b"".join(b"\r\nX-H%d: %s" % (i, b"v" * 200) for i in range(500)), 431),
    ],
    ids=["url-100k", "header-100k", "headers-100k"],
)  # fmt: skip
def test_over_long_urls_and_headers_are_answered_with_the_envelope(node, head: bytes, code: int) -> None:
    status, headers, answer = raw_request(node, head)
    assert status == code
    assert headers["content-type"].startswith("application/json")
    envelope = json.loads(answer)
    assert envelope["status"] == "ERROR" and envelope["errors"]
    assert ok(node, "GET", "process/health/v1")["alive"] is True
