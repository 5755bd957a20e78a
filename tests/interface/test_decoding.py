"""Strict request decoding: what JSON and Unicode allow, found anywhere, and reported with its place."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.interface.api import decoding


def problem_of(raw: str, **where: Any) -> str | None:
    found = decoding.find_problem(decoding.loads(raw))
    return None if found is None else decoding.describe(found, **where)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"a": NaN}', "parameter a: NaN is not a JSON number (send null or a string instead)"),
        ('{"a": [1, {"b": Infinity}]}', "parameter a: Infinity is not a JSON number (send null or a string instead) (at a[1].b)"),
        ('{"a": -Infinity}', "parameter a: -Infinity is not a JSON number (send null or a string instead)"),
        ('{"a": -1e999}', "parameter a: -1e999 is out of range for a number (a 64-bit float)"),
        ('{"a": "\\ud800"}', "parameter a: not valid Unicode text (lone surrogate U+D800)"),
        ('{"a": "ok \\udfff"}', "parameter a: not valid Unicode text (lone surrogate U+DFFF)"),
        ('{"a": {"\\ud800x": 1}}', 'parameter a: the key "\\ud800x" is not valid Unicode text (lone surrogate U+D800)'),
        ('{"a": {"b c": ["\\udc80"]}}', 'parameter a: not valid Unicode text (lone surrogate U+DC80) (at a."b c"[0])'),
        ('{"\\udbff": 1}', 'parameter name "\\udbff" is not valid Unicode text (lone surrogate U+DBFF)'),
        ('{"a": 1, "b": 2, "a": 3}', "parameter a given more than once in the body"),
        ('{"a": [{"k": 1, "k": 1}]}', 'parameter a: the key "k" appears more than once (at a[0])'),
        ('{"a": 1.5, "b": "\\u00e9\\ud83d\\ude00", "c": {"d": [null, true]}}', None),
    ],
)  # fmt: skip
def test_problems_are_found_and_named(raw: str, message: str | None) -> None:
    assert problem_of(raw) == message


def test_the_first_problem_in_document_order_is_reported() -> None:
    assert problem_of('{"a": [1, "\\ud800"], "b": NaN}').startswith("parameter a:")
    assert problem_of('{"a": [1, 2], "b": NaN}').startswith("parameter b:")


def test_parameters_can_sit_below_the_root() -> None:
    where = {"params_at": ("kwargs",), "document": "frame"}
    assert problem_of('{"kwargs": {"x": NaN}}', **where).startswith("parameter x: NaN")
    assert problem_of('{"kwargs": {"x": 1, "x": 2}}', **where) == "parameter x given more than once in the frame"
    assert problem_of('{"method": "\\ud800"}', **where).startswith("frame field method: not valid Unicode")
    assert problem_of('{"m": 1, "m": 2}', **where) == 'frame: the key "m" appears more than once'


def test_messages_are_ascii_whatever_was_sent() -> None:
    message = problem_of('{"\\u00e9\\ud800": 1}')
    assert message is not None and message.isascii()
    long_key = "k" * 500
    message = problem_of(json.dumps({"a": {long_key: "\ud800"}}))
    assert message is not None and len(message) < 300


def test_syntax_errors_and_bad_encoding_are_invalid_json() -> None:
    for raw in (b"{", b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000, "{'a': 1}"):
        with pytest.raises(decoding.InvalidJson):
            decoding.loads(raw)


def test_a_document_as_deep_as_the_parser_takes_is_walked_without_recursion() -> None:
    depth = 900
    raw = '{"a": ' + "[" * depth + '"\\ud800"' + "]" * depth + "}"
    message = problem_of(raw)
    assert message is not None and message.startswith("parameter a: not valid Unicode text")


def test_url_text_is_strict_utf8() -> None:
    assert decoding.url_text("%C3%A9+x") == "\u00e9+x"
    for bad in ("%ff", "%ED%A0%80", "%C3"):
        with pytest.raises(UnicodeDecodeError):
            decoding.url_text(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_standard_json_of_valid_text_round_trips_with_no_problem(value: Any) -> None:
    raw = json.dumps({"v": value})
    decoded = decoding.loads(raw)
    assert decoded == {"v": value}
    assert decoding.find_problem(decoded) is None
