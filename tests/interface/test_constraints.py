"""Parameter constraints: declared once, applied to requests, and described in the document alike."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitdust.interface.api.catalog import all_specs
from bitdust.interface.api.constraints import Constraint, between, each, one_of, text
from bitdust.interface.api.params import coerce_value, parse_params, parse_request_params
from bitdust.interface.api.spec import COMMON_STATUSES, Param, api_method
from bitdust.interface.openapi import body_param_schema, build_openapi
from bitdust.main.errors import InvalidInput


@api_method(
    "GET",
    "limits/{name}/v1",
    constraints={
        "mode": one_of("fast", "slow"),
        "timeout": between(0, 60, exclusive_minimum=True),
        "retries": between(0, 3),
        "protocols": each(one_of("tcp", "udp"), max_items=2),
        "label": text(max_length=8, pattern="[a-z]+"),
        "code": text(3, 3, "[a-z]{3}", explain="a code is 3 lowercase letters"),
    },
    answers=(404,),
)
def limited(
    engine: Any,
    name: str,
    mode: str = "fast",
    timeout: float = 5,
    retries: int = 1,
    protocols: list[str] | None = None,
    label: str | None = None,
    code: str = "abc",
) -> None:
    """A method whose parameters carry constraints."""


SPEC = limited.__bitdust_api__  # type: ignore[attr-defined]


def refused(values: dict[str, Any], *, from_strings: bool = False) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPEC, {"name": "n", **values}, from_strings=from_strings)
    return caught.value.errors[0]


# -- requests ---------------------------------------------------------------------------------


def test_values_inside_the_constraints_pass() -> None:
    parsed = parse_params(
        SPEC,
        {"name": "n", "mode": "slow", "timeout": "60", "retries": 0, "protocols": "tcp,udp", "label": "abc"},
        from_strings=False,
    )
    assert parsed == {"name": "n", "mode": "slow", "timeout": 60.0, "retries": 0, "protocols": ["tcp", "udp"],
                      "label": "abc", "code": "abc"}  # fmt: skip


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"mode": "medium"}, "parameter mode: 'medium' is not one of 'fast', 'slow'"),
        ({"timeout": 0}, "parameter timeout: expected a number over 0 and up to 60"),
        ({"timeout": "60.5"}, "parameter timeout: expected a number over 0 and up to 60"),
        ({"retries": -1}, "parameter retries: expected a number from 0 and up to 3"),
        ({"protocols": ["tcp", "quic"]}, "parameter protocols: item 1: 'quic' is not one of 'tcp', 'udp'"),
        ({"protocols": "tcp,udp,tcp"}, "parameter protocols: expected at most 2 items"),
        ({"label": ""}, "parameter label: must not be empty"),
        ({"label": "abcdefghi"}, "parameter label: expected at most 8 characters"),
        ({"label": "ABC"}, "parameter label: expected text matching [a-z]+"),
        ({"label": "abc\n"}, "parameter label: expected text matching [a-z]+"),
        ({"name": ""}, "parameter name: must not be empty"),
        ({"code": "ab"}, "parameter code: a code is 3 lowercase letters, got 'ab'"),
    ],
)
def test_values_outside_the_constraints_are_a_bad_request(values: dict[str, Any], reason: str) -> None:
    assert refused(values) == reason


def test_constraints_apply_to_rest_requests_and_nulls_pass_to_the_kind() -> None:
    with pytest.raises(InvalidInput, match="parameter mode: 'x' is not one of"):
        parse_request_params(SPEC, path_args={"name": "n"}, query={"mode": ["x"]}, body={})
    parsed = parse_request_params(SPEC, path_args={"name": "n"}, query={"label": ["null"]}, body={})
    assert parsed["label"] is None


def test_a_boolean_is_not_a_numeric_choice() -> None:
    param = Param(name="size", kind="any", constraint=one_of(1, 2))
    with pytest.raises(InvalidInput):
        coerce_value(param, True, from_string=False)
    assert coerce_value(param, 1, from_string=False) == 1


# -- declarations -----------------------------------------------------------------------------


def test_a_constraint_for_an_unknown_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="constraints for unknown parameters"):
        api_method("GET", "x/v1", constraints={"nope": text()})(lambda engine, a="": None)


@pytest.mark.parametrize(
    ("kind_default", "constraint"),
    [("", between(0, 1)), (0, text()), ("", each(text())), ("a", one_of(1, 2)), (1, one_of(1, 2.5, "x"))],
)
def test_a_constraint_that_cannot_apply_to_the_kind_is_refused(kind_default: Any, constraint: Constraint) -> None:
    def method(engine: Any, a: str | int = kind_default) -> None: ...

    method.__annotations__["a"] = type(kind_default).__name__
    with pytest.raises(ValueError, match="parameter method.a"):
        api_method("GET", "x/v1", constraints={"a": constraint})(method)


def test_answers_are_only_domain_statuses() -> None:
    with pytest.raises(ValueError, match="answers"):
        api_method("GET", "x/v1", answers=(418,))(lambda engine: None)
    assert SPEC.statuses == tuple(sorted((*COMMON_STATUSES, 404)))


def test_the_engine_methods_declare_their_constraints() -> None:
    """Spot checks of the declarations on the real methods (the e2e schemathesis run checks the rest)."""
    specs = {spec.name: spec for spec in all_specs()}
    assert specs["connections_list"].param("protocols").constraint == each(one_of("tcp", "udp", "proxy"))
    assert specs["key_create"].param("key_size").constraint == one_of(1024, 2048, 4096)
    assert specs["user_ping"].param("timeout").constraint == between(0, 3600, exclusive_minimum=True)
    assert specs["dht_value_get"].param("layer_id").constraint == between(0, 9)
    assert specs["automat_diagram"].param("format").constraint == one_of("dot", "svg")
    assert 409 in specs["identity_get"].statuses and 409 not in specs["configs_list"].statuses
    assert 504 in specs["user_ping"].statuses and 503 in specs["keys_list"].statuses
    with pytest.raises(InvalidInput, match="parameter protocols: item 0"):
        parse_params(specs["connections_list"], {"protocols": "quic"}, from_strings=True)


# -- the document agrees with the decoder -----------------------------------------------------


def _matches(schema: dict[str, Any], value: Any) -> bool:
    """A small validator for the schema keywords the document uses (enough to compare with the decoder)."""
    if "anyOf" in schema:
        return (value is None and schema.get("nullable", False)) or any(_matches(s, value) for s in schema["anyOf"])
    kind = schema.get("type")
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }
    if kind is not None and not checks[kind](value):
        return False
    if "enum" in schema and not any(type(value) is type(c) and value == c for c in schema["enum"]):
        return False
    if "multipleOf" in schema and value % schema["multipleOf"] != 0:
        return False
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    if "pattern" in schema:
        return re.fullmatch(schema["pattern"][1:-1], value) is not None  # anchored ^...$
    return True


def _accepted(param: Param, value: Any) -> bool:
    try:
        coerce_value(param, value, from_string=False)
    except InvalidInput:
        return False
    return True


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False).map(lambda f: round(f, 1)),
    st.sampled_from(["1", "0", " 12 ", "\u3000-3\n", "1.5", "true", " FALSE", "yes", "", "a,b", "[1]", "{}", "1e3"]),
    st.text(max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(["int", "bool", "float"]), value=JSON_SCALARS)
def test_body_schema_accepts_exactly_what_the_decoder_takes(kind: str, value: Any) -> None:
    """For kinds without further limits, a body value the document calls valid is accepted and vice versa."""
    param = Param(name="x", kind=kind)
    assert _matches(body_param_schema(param), value) == _accepted(param, value), (kind, value)


def test_every_engine_constraint_is_a_valid_schema_in_the_document() -> None:
    doc = build_openapi(all_specs(), version="1")
    for item in doc["paths"].values():
        for op in item.values():
            for parameter in op.get("parameters", []):
                if "pattern" in parameter["schema"]:
                    re.compile(parameter["schema"]["pattern"])
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for schema in body.get("properties", {}).values():
                for form in schema.get("anyOf", [schema]):
                    if "pattern" in form:
                        re.compile(form["pattern"])


def test_a_value_outside_a_constraint_names_its_parameter_on_the_error() -> None:
    param = Param(name="mode", kind="str", default="a", constraint=one_of("a", "b"))
    with pytest.raises(InvalidInput) as caught:
        coerce_value(param, "x", from_string=True)
    assert caught.value.parameter == "mode"
