"""Configuration through the API: persisted across a restart, untouched by bad input."""

from __future__ import annotations

import pytest

from bitdust.sandbox.launcher import engine_pids
from tests.e2e.helpers import api, healthy, ok, poll_until

pytestmark = pytest.mark.e2e

DEBUG_LEVEL = "logs/debug-level"


def _value(node, key: str = DEBUG_LEVEL):
    return ok(node, "GET", "config/get/v1", key=key)[0]["value"]


def _on_disk(node, key: str = DEBUG_LEVEL) -> bytes | None:
    path = node.home / "config" / key
    return path.read_bytes() if path.exists() else None


def test_a_setting_survives_a_restart(own_sandbox, own_node) -> None:
    result = ok(own_node, "POST", "config/set/v1", key=DEBUG_LEVEL, value=12)
    assert result[0]["key"] == DEBUG_LEVEL and result[0]["value"] == 12
    assert _value(own_node) == 12
    assert _on_disk(own_node).strip() == b"12"

    assert own_sandbox.stop_node(own_node.name) is True
    assert engine_pids(own_node.home) == []
    restarted = own_sandbox.start_node(own_node.name)
    assert restarted.pid != own_node.pid
    assert (restarted.rest_port, restarted.ws_port) == (own_node.rest_port, own_node.ws_port)
    poll_until(lambda: healthy(restarted), 30, what="the restarted node's health")

    assert _value(restarted) == 12


@pytest.mark.parametrize("value", ["abc", "", [1, 2], 999])
def test_a_wrong_value_is_400_and_changes_nothing(node, value) -> None:
    before, file_before = _value(node), _on_disk(node)

    status, envelope = api(node, "POST", "config/set/v1", key=DEBUG_LEVEL, value=value)

    assert status == 400, envelope
    assert envelope["status"] == "ERROR"
    assert any(DEBUG_LEVEL in error for error in envelope["errors"]), envelope
    assert _value(node) == before
    assert _on_disk(node) == file_before


def test_an_unknown_key_is_404_and_changes_nothing(node) -> None:
    listed_before = ok(node, "GET", "config/list/v1")

    status, envelope = api(node, "POST", "config/set/v1", key="logs/no-such-option", value=1)
    assert status == 404 and envelope["status"] == "ERROR"
    status, envelope = api(node, "GET", "config/get/v1", key="no/such/option")
    assert status == 404 and envelope["status"] == "ERROR"

    assert ok(node, "GET", "config/list/v1") == listed_before
    assert not (node.home / "config" / "logs" / "no-such-option").exists()


def test_a_missing_parameter_is_400(node) -> None:
    status, envelope = api(node, "POST", "config/set/v1", key=DEBUG_LEVEL)
    assert status == 400 and envelope["status"] == "ERROR"
