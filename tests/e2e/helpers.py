"""Helpers of the end-to-end tests: calling a node's API, waiting for a condition, WebSocket URLs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from bitdust.interface.client import ApiClient, EngineNotRunning
from bitdust.main.process.api_secret import read_secret
from bitdust.main.process.paths import HomePaths
from bitdust.sandbox.state import NodeRecord
from tests.e2e.wsclient import WsClient

T = TypeVar("T")

USE_NODE_SECRET = object()


def secret_of(node: NodeRecord) -> str:
    secret = read_secret(HomePaths(node.home).api_secret)
    assert secret, f"{node.name} has no API secret in {node.home}"
    return secret


def api(
    node: NodeRecord,
    verb: str,
    path: str,
    *,
    _secret: Any = USE_NODE_SECRET,
    _timeout: float = 30.0,
    **params: Any,
) -> tuple[int, dict[str, Any]]:
    """One REST call to ``node`` as a user would make it: ``(http_status, envelope)``.

    ``_secret=""`` sends no secret at all, any other string sends that one instead of the node's.
    """
    secret = secret_of(node) if _secret is USE_NODE_SECRET else _secret
    with ApiClient(node.home, port=node.rest_port, secret=secret, timeout=_timeout) as client:
        return client.request(verb, path, params)


def ok(node: NodeRecord, verb: str, path: str, **params: Any) -> Any:
    """The result of a call that must succeed."""
    status, envelope = api(node, verb, path, **params)
    assert status == 200 and envelope.get("status") == "OK", (status, envelope)
    return envelope["result"]


def healthy(node: NodeRecord) -> dict[str, Any] | None:
    try:
        status, envelope = api(node, "GET", "process/health/v1", _timeout=2)
    except (EngineNotRunning, OSError):
        return None
    return envelope["result"] if status == 200 and envelope.get("status") == "OK" else None


def poll_until(condition: Callable[[], T], deadline: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Call ``condition`` until it returns something truthy and return that; fail after ``deadline`` s.

    The short waits only pace the polling; correctness never depends on them.
    """
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what or condition!r}")
        time.sleep(interval)


def ws_connect(node: NodeRecord, secret: Any = USE_NODE_SECRET, timeout: float = 10.0) -> WsClient:
    """A WebSocket connection to ``node``; ``secret=None`` sends none."""
    token = secret_of(node) if secret is USE_NODE_SECRET else secret
    path = "/" if token is None else f"/?api_secret={token}"
    return WsClient(node.ws_port, path, timeout=timeout)


def ws_call(client: WsClient, method: str, call_id: str, timeout: float = 10.0, **kwargs: Any) -> dict[str, Any]:
    """An ``api_call`` over the WebSocket; returns the response envelope for ``call_id``."""
    client.send_json({"command": "api_call", "method": method, "kwargs": kwargs, "call_id": call_id})
    frame = client.recv_until(
        lambda m: m.get("type") == "api_call" and m.get("payload", {}).get("call_id") == call_id, timeout
    )
    return frame["payload"]["response"]
