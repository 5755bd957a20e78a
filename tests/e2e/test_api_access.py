"""The engine answers its API with the secret, refuses without it, and reports itself."""

from __future__ import annotations

import pytest

from bitdust import __version__
from bitdust.sandbox.launcher import engine_pids
from tests.e2e.helpers import api, ok

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
