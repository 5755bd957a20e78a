from __future__ import annotations

import itertools

import pytest

from bitdust.automats.conditions import (
    And,
    ConditionSyntaxError,
    Name,
    Not,
    Or,
    evaluate,
    names,
    parse_condition,
    to_python,
    to_source,
)

A, B, C = Name("is_a"), Name("is_b"), Name("is_c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is_a", A),
        ("  is_a  ", A),
        ("!is_a", Not(A)),
        ("!!is_a", Not(Not(A))),
        ("is_a && is_b", And((A, B))),
        ("is_a&&is_b&&is_c", And((A, B, C))),
        ("is_a || is_b", Or((A, B))),
        ("is_a || is_b && is_c", Or((A, And((B, C))))),
        ("is_a && is_b || is_c", Or((And((A, B)), C))),
        ("(is_a || is_b) && is_c", And((Or((A, B)), C))),
        ("!(is_a && is_b)", Not(And((A, B)))),
        ("!is_a && is_b", And((Not(A), B))),
        ("((is_a))", A),
        ("is_ok_2", Name("is_ok_2")),
    ],
)
def test_parse(text: str, expected: object) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty condition"),
        ("   ", "empty condition"),
        ("(is_a", "unbalanced parentheses: missing ')'"),
        ("is_a)", "unbalanced parentheses: unexpected ')'"),
        ("((is_a) && is_b", "unbalanced parentheses: missing ')'"),
        ("is_a &&", "condition ends too early"),
        ("&& is_a", "unexpected '&&'"),
        ("is_a is_b", "unexpected 'is_b'"),
        ("is_a & is_b", "unexpected character '&'"),
        ("is_a | is_b", "unexpected character '|'"),
        ("is_a and is_b", "unexpected 'and'"),
        ("ok", "bad condition name 'ok'"),
        ("is_A", "bad condition name 'is_A'"),
        ("is-a", "unexpected character '-'"),
        ("()", "unexpected ')'"),
        ("!", "condition ends too early"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["is_a", "!is_a", "is_a && is_b", "is_a || is_b && is_c", "(is_a || is_b) && !is_c", "!(is_a || is_b)"],
)
def test_to_source_round_trips(text: str) -> None:
    expr = parse_condition(text)
    assert parse_condition(to_source(expr)) == expr


def test_to_source_keeps_only_needed_parentheses() -> None:
    assert to_source(parse_condition("((is_a)) && (!(is_b))")) == "is_a && !is_b"
    assert to_source(parse_condition("is_a || (is_b && is_c)")) == "is_a || (is_b && is_c)"
    assert to_source(parse_condition("(is_a || is_b) && is_c")) == "(is_a || is_b) && is_c"


def test_to_python() -> None:
    expr = parse_condition("!is_a && (is_b || is_c) || is_a")
    text = to_python(expr, lambda name: f"s.{name}()")
    assert text == "(not s.is_a() and (s.is_b() or s.is_c())) or s.is_a()"


@pytest.mark.parametrize(
    "text",
    ["is_a", "!is_a", "is_a && !is_b", "is_a || is_b && !is_c", "!(is_a || is_b) && is_c", "!!(is_a && is_b || is_c)"],
)
def test_python_rendering_agrees_with_evaluate(text: str) -> None:
    expr = parse_condition(text)
    code = to_python(expr, lambda name: f"v[{name!r}]")
    for values in itertools.product([False, True], repeat=3):
        v = dict(zip(["is_a", "is_b", "is_c"], values, strict=True))
        assert eval(code, {"v": v}) == evaluate(expr, v.__getitem__)  # our own generated text


def test_names_in_first_appearance_order() -> None:
    assert names(parse_condition("is_c && (is_a || !is_c) && is_b")) == ["is_c", "is_a", "is_b"]


def test_evaluate_short_circuits() -> None:
    asked = []

    def value(name: str) -> bool:
        asked.append(name)
        return False

    assert evaluate(parse_condition("is_a && is_b"), value) is False
    assert asked == ["is_a"]
