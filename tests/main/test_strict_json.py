from __future__ import annotations

import pytest

from bitdust.main import strict_json


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "[Infinity]",
        '{"a": 1, "a": 2}',
        '{"a": -Infinity}',
        "1e400",
        "[-1e400]",
        '"\\ud800"',
        '"\\udfff x"',
        "{",
        "1" * 5000,
    ],
)
def test_loads_refuses_what_is_not_strict_json(text: str) -> None:
    with pytest.raises(strict_json.NotStrictJson):
        strict_json.loads(text)
    with pytest.raises(strict_json.NotStrictJson):
        strict_json.loads(text.encode("utf-8"))


def test_loads_refuses_bytes_that_are_not_utf8_and_raw_lone_surrogates() -> None:
    with pytest.raises(strict_json.NotStrictJson, match="UTF-8"):
        strict_json.loads(b'"\xff"')
    with pytest.raises(strict_json.NotStrictJson, match="surrogate"):
        strict_json.loads('"\ud800"')


@pytest.mark.parametrize("value", [float("nan"), [float("inf")], {"a": float("-inf")}, "\ud800", {"x": object()}])
def test_dumps_refuses_what_is_not_strict_json(value: object) -> None:
    with pytest.raises(strict_json.NotStrictJson):
        strict_json.dumps(value)
    assert strict_json.is_strict(value)


def test_strict_values_pass_both_ways() -> None:
    value = {"b": [1, 2.5, -0.0, 1e308, None, True], "a": "\u00e9\U0001f600"}
    assert strict_json.loads(strict_json.dumps(value)) == value
    assert strict_json.dumps(value, canonical=True).startswith(b'{"a":')
    assert strict_json.is_strict(value) is None
