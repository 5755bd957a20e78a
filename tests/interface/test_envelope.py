"""The envelope: the one shape every API answer has."""

from __future__ import annotations

import json

import pytest

from bitdust.interface.api import envelope


def test_ok_always_has_result_and_formats_execution() -> None:
    assert envelope.ok({"a": 1}, 0.000107) == {"status": "OK", "result": {"a": 1}, "execution": "0.000107"}
    assert envelope.ok(None, 0)["result"] is None
    assert envelope.ok([], 1.5) == {"status": "OK", "result": [], "execution": "1.500000"}


def test_ok_message_only_when_given() -> None:
    assert "message" not in envelope.ok(1, 0.0)
    assert envelope.ok(1, 0.0, "done")["message"] == "done"
    assert envelope.ok(1, 0.0, "")["message"] == ""


def test_error_lists_reasons() -> None:
    assert envelope.error(["bad", "worse"], 0.25) == {
        "status": "ERROR",
        "errors": ["bad", "worse"],
        "execution": "0.250000",
    }


def test_execution_is_never_negative() -> None:
    assert envelope.format_execution(-0.5) == "0.000000"


def test_encode_is_strict_json() -> None:
    assert json.loads(envelope.encode(envelope.ok("é", 0))) == {"status": "OK", "result": "é", "execution": "0.000000"}
    assert envelope.encode({"a": 1}, pretty=True).endswith(b"\n")
    with pytest.raises(ValueError):
        envelope.encode({"x": float("nan")})
    with pytest.raises(TypeError):
        envelope.encode({"x": object()})


def test_ok_carries_extra_fields_beside_result_but_never_over_its_own() -> None:
    answer = envelope.ok([1], 0.0, extra={"revision": 5})
    assert answer == {"status": "OK", "result": [1], "revision": 5, "execution": "0.000000"}
    for name in ("status", "result", "execution", "message", "errors"):
        with pytest.raises(ValueError):
            envelope.ok([1], 0.0, extra={name: "x"})
