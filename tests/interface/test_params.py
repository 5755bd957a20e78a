"""Parameter parsing: every kind, strings and JSON values, aliases, defaults, and only InvalidInput."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.interface.api.params import coerce_value, parse_params, parse_request_params
from bitdust.interface.api.spec import Param
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput
from tests.interface import fake_api

SPECS = {spec.name: spec for spec in fake_api.specs()}
ECHO = SPECS["fake_echo"]
ADD = SPECS["fake_items_add"]
ANY = SPECS["fake_any"]
SERVICE = SPECS["fake_service_set"]


def errors_of(spec: Any, values: dict[str, Any], *, from_strings: bool = False) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_params(spec, values, from_strings=from_strings)
    return caught.value.errors


def p(kind: str, *, nullable: bool = False) -> Param:
    return Param(name="x", kind=kind, nullable=nullable)


# -- kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("str", "abc", "abc"),
        ("str", "", ""),
        ("int", "12", 12),
        ("int", " -3 ", -3),
        ("int", 7, 7),
        ("int", 7.0, 7),
        ("float", "1.5", 1.5),
        ("float", "2", 2.0),
        ("float", "-.5e3", -500.0),
        ("float", 3, 3.0),
        ("bool", "true", True),
        ("bool", "TRUE", True),
        ("bool", "False", False),
        ("bool", "1", True),
        ("bool", "0", False),
        ("bool", True, True),
        ("bool", 0, False),
        ("bool", 1, True),
        ("list", ["a", 1], ["a", 1]),
        ("list", '["a", 1]', ["a", 1]),
        ("list", "a,b, c", ["a", "b", "c"]),
        ("list", "a,,b,", ["a", "b"]),
        ("list", "single", ["single"]),
        ("list", "", []),
        ("dict", {"a": 1}, {"a": 1}),
        ("dict", '{"a": 1}', {"a": 1}),
        ("any", {"deep": [1, None]}, {"deep": [1, None]}),
        ("any", "12", "12"),
    ],
)
def test_accepted_values(kind: str, raw: Any, expected: Any) -> None:
    for from_string in (True, False):
        if from_string and not isinstance(raw, str):
            continue
        value = coerce_value(p(kind), raw, from_string=from_string)
        assert value == expected
        assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("kind", "raw", "shown"),
    [
        ("str", 12, "12"),
        ("str", ["a"], "a list"),
        ("int", "abc", "'abc'"),
        ("int", "1.5", "'1.5'"),
        ("int", 1.5, "1.5"),
        ("int", True, "true"),
        ("int", "", "''"),
        ("int", "١٢", "'١٢'"),
        ("float", "nan", "'nan'"),
        ("float", "inf", "'inf'"),
        ("float", "1e999", "'1e999'"),
        ("float", float("inf"), "inf"),
        ("float", False, "false"),
        ("bool", "yes", "'yes'"),
        ("bool", 2, "2"),
        ("bool", "", "''"),
        ("list", {"a": 1}, "an object"),
        ("list", "[1, 2", "'[1, 2'"),
        ("list", 5, "5"),
        ("dict", "[1]", "'[1]'"),
        ("dict", "", "''"),
        ("dict", "not json", "'not json'"),
        ("dict", ["a"], "a list"),
    ],
)
def test_rejected_values_name_parameter_and_value(kind: str, raw: Any, shown: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        coerce_value(p(kind), raw, from_string=isinstance(raw, str))
    assert status_of(caught.value) == 400
    assert caught.value.message.startswith("parameter x: expected ")
    assert caught.value.message.endswith(f", got {shown}")


def test_error_message_format_for_an_integer() -> None:
    spec = SPECS["fake_items_add"]
    assert errors_of(spec, {"items": "a", "limit": "abc"}, from_strings=True) == [
        "parameter limit: expected integer, got 'abc'"
    ]


def test_long_values_are_clipped_in_messages() -> None:
    with pytest.raises(InvalidInput) as caught:
        coerce_value(p("int"), "9" * 30 + "x" * 1000, from_string=True)
    assert len(caught.value.message) < 120


def test_null() -> None:
    assert coerce_value(p("int", nullable=True), None, from_string=False) is None
    assert coerce_value(p("int", nullable=True), "null", from_string=True) is None
    assert coerce_value(p("str", nullable=True), "null", from_string=False) == "null"
    with pytest.raises(InvalidInput, match="expected integer, got null"):
        coerce_value(p("int"), None, from_string=False)
    with pytest.raises(InvalidInput):
        coerce_value(p("int"), "null", from_string=True)


# -- whole methods ----------------------------------------------------------------------------


def test_strings_are_coerced_and_defaults_filled() -> None:
    assert parse_params(ECHO, {"text": "hi", "times": "3"}, from_strings=True) == {
        "text": "hi",
        "times": 3,
        "loud": False,
    }


def test_json_values_also_accept_strings_for_numbers_and_booleans() -> None:
    assert parse_params(ECHO, {"text": "hi", "times": "3", "loud": "true"}, from_strings=False)["loud"] is True


def test_missing_required() -> None:
    assert errors_of(ECHO, {}) == ["missing required parameter: text"]


def test_unknown_parameter_names_the_allowed_ones() -> None:
    assert errors_of(ECHO, {"text": "a", "foo": 1}) == ["unknown parameter: foo; allowed: text, times, loud"]
    assert errors_of(SPECS["fake_health"], {"foo": 1}) == ["unknown parameter: foo; fake_health takes no parameters"]


def test_all_problems_are_reported_first_one_is_the_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(ECHO, {"times": "x", "bar": 1}, from_strings=True)
    assert caught.value.message == "parameter times: expected integer, got 'x'"
    assert caught.value.errors == [
        "parameter times: expected integer, got 'x'",
        "unknown parameter: bar; allowed: text, times, loud",
        "missing required parameter: text",
    ]


def test_alias_maps_to_canonical_name() -> None:
    assert parse_params(ADD, {"entries": "a,b"}, from_strings=True)["items"] == ["a", "b"]
    assert parse_params(ANY, {"v": "x"}, from_strings=True)["value"] == "x"


def test_alias_and_canonical_together_is_400() -> None:
    assert errors_of(ADD, {"entries": "a", "items": "b"}) == [
        "parameter items given more than once: as entries and as items"
    ]


def test_mutable_defaults_are_not_shared_between_calls() -> None:
    first = parse_params(ADD, {"items": []}, from_strings=False)
    first["tags"].append("changed")
    second = parse_params(ADD, {"items": []}, from_strings=False)
    assert second["tags"] == ["default"]
    assert ADD.param("tags").default == ["default"]


def test_nullable_from_type_hint_and_from_none_default() -> None:
    assert parse_params(ANY, {"key_id": "null"}, from_strings=True)["key_id"] is None
    assert parse_params(ADD, {"items": [], "options": None}, from_strings=False)["options"] is None


def test_dict_and_list_json_strings() -> None:
    parsed = parse_params(ADD, {"items": '["x"]', "options": '{"k": [1]}'}, from_strings=True)
    assert parsed["items"] == ["x"]
    assert parsed["options"] == {"k": [1]}


# -- REST requests: path, query string and body together --------------------------------------


def test_request_sources_combine() -> None:
    parsed = parse_request_params(
        SERVICE, path_args={"service_name": "svc"}, query={"enabled": ["1"]}, body={"value": {"a": 1}}
    )
    assert parsed == {"service_name": "svc", "enabled": True, "value": {"a": 1}}


def test_request_parameter_in_two_places_is_400() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request_params(
            SERVICE, path_args={"service_name": "a"}, query={}, body={"service_name": "b", "enabled": 1}
        )
    assert caught.value.errors == [
        "parameter service_name given more than once: as service_name in path and as service_name in body"
    ]
    with pytest.raises(InvalidInput, match="more than once"):
        parse_request_params(ECHO, path_args={}, query={"text": ["a"]}, body={"text": "b"})


def test_query_string_values_are_strings_body_values_are_json() -> None:
    parsed = parse_request_params(ANY, path_args={}, query={"value": ["12"]}, body={})
    assert parsed["value"] == "12"
    parsed = parse_request_params(ANY, path_args={}, query={}, body={"value": 12})
    assert parsed["value"] == 12


def test_repeated_query_key() -> None:
    parsed = parse_request_params(ADD, path_args={}, query={"items": ["a", "b"]}, body={})
    assert parsed["items"] == ["a", "b"]
    with pytest.raises(InvalidInput) as caught:
        parse_request_params(ECHO, path_args={}, query={"text": ["a", "b"]}, body={})
    assert caught.value.errors == ["parameter text given more than once in the query string"]


# -- only ever InvalidInput ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=10,
)
names = st.sampled_from(sorted({n for spec in SPECS.values() for q in spec.params for n in (q.name, *q.aliases)}))


@given(
    spec_name=st.sampled_from(sorted(SPECS)),
    values=st.dictionaries(names | st.text(max_size=8), json_values, max_size=6),
    from_strings=st.booleans(),
)
def test_random_json_values_only_raise_bad_request(spec_name: str, values: dict[str, Any], from_strings: bool) -> None:
    try:
        parse_params(SPECS[spec_name], values, from_strings=from_strings)
    except InvalidInput as exc:
        assert exc.errors and all(isinstance(e, str) for e in exc.errors)


@given(
    spec_name=st.sampled_from(sorted(SPECS)),
    values=st.dictionaries(names, st.text() | st.sampled_from(["[", "[[[[" * 3000, "{", "null", "1e400"])),
)
def test_random_strings_only_raise_bad_request(spec_name: str, values: dict[str, str]) -> None:
    try:
        parse_params(SPECS[spec_name], values, from_strings=True)
    except InvalidInput:
        pass


@pytest.mark.parametrize(
    ("kind", "raw", "error"),
    [
        ("list", "[1, NaN]", "parameter x: NaN is not a JSON number (send null or a string instead) (at x[1])"),
        ("list", '["\\ud800"]', "parameter x: not valid Unicode text (lone surrogate U+D800) (at x[0])"),
        ("dict", '{"a": 1, "a": 2}', 'parameter x: the key "a" appears more than once'),
        ("dict", '{"a": Infinity}', "parameter x: Infinity is not a JSON number (send null or a string instead) (at x.a)"),
    ],
)  # fmt: skip
def test_json_inside_a_string_is_as_strict_as_a_body(kind: str, raw: str, error: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        coerce_value(p(kind), raw, from_string=True)
    assert caught.value.errors == [error]


@pytest.mark.parametrize(("kind", "raw"), [("int", "ten"), ("int", None), ("dict", "{]")])
def test_a_rejected_value_names_its_parameter_on_the_error(kind: str, raw: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        coerce_value(p(kind), raw, from_string=isinstance(raw, str))
    assert caught.value.parameter == "x"
