"""Guard conditions of transition labels: ``is_a && !(is_b || is_c)``.

A condition is parsed once, into a small immutable tree, so the generator can write it as plain
Python (``self.is_a(...) and not (...)``), the diagram can print it back, and tests can evaluate
it without generated code. Precedence is the usual one: ``!`` binds tighter than ``&&``, which
binds tighter than ``||``; parentheses group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import attrs

CONDITION_NAME = re.compile(r"is_[a-z0-9]+(?:_[a-z0-9]+)*")

_TOKEN = re.compile(r"\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\S))")


class ConditionSyntaxError(ValueError):
    """The condition text cannot be parsed; the source parser adds the file and line."""


@attrs.frozen
class Name:
    """A call of one ``is_*`` method of the machine."""

    name: str


@attrs.frozen
class Not:
    operand: Expr


@attrs.frozen
class And:
    operands: tuple[Expr, ...]


@attrs.frozen
class Or:
    operands: tuple[Expr, ...]


Expr = Name | Not | And | Or

_PRECEDENCE = {Or: 1, And: 2, Not: 3, Name: 4}


def _tokens(text: str) -> Iterator[str]:
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing blanks are left, and they were stripped
            break
        if match.group("bad"):
            raise ConditionSyntaxError(f"unexpected character {match.group('bad')!r} in condition {text!r}")
        yield match.group("op") or match.group("name")
        pos = match.end()


class _Parser:
    """Recursive descent over the token list; one method per precedence level."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokens(text))
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.pos += 1
        return token

    def fail(self, reason: str) -> ConditionSyntaxError:
        return ConditionSyntaxError(f"{reason} in condition {self.text!r}")

    def parse(self) -> Expr:
        if not self.tokens:
            raise self.fail("empty condition")
        expr = self.parse_or()
        token = self.peek()
        if token == ")":
            raise self.fail("unbalanced parentheses: unexpected ')'")
        if token is not None:
            raise self.fail(f"unexpected {token!r}")
        return expr

    def parse_or(self) -> Expr:
        operands = [self.parse_and()]
        while self.peek() == "||":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Expr:
        operands = [self.parse_unary()]
        while self.peek() == "&&":
            self.take()
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self) -> Expr:
        if self.peek() == "!":
            self.take()
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Expr:
        token = self.take()
        if token is None:
            raise self.fail("condition ends too early")
        if token == "(":
            expr = self.parse_or()
            if self.take() != ")":
                raise self.fail("unbalanced parentheses: missing ')'")
            return expr
        if token in ("&&", "||", ")"):
            raise self.fail(f"unexpected {token!r}")
        if not CONDITION_NAME.fullmatch(token):
            raise self.fail(f"bad condition name {token!r} (conditions are is_* names)")
        return Name(token)


def parse_condition(text: str) -> Expr:
    """Parse ``text``; raise :class:`ConditionSyntaxError` saying what is wrong."""
    return _Parser(text).parse()


def _render(expr: Expr, name: Callable[[str], str], not_op: str, and_op: str, or_op: str) -> str:
    def sub(child: Expr, minimum: int) -> str:
        text = _render(child, name, not_op, and_op, or_op)
        return f"({text})" if _PRECEDENCE[type(child)] < minimum else text

    if isinstance(expr, Name):
        return name(expr.name)
    if isinstance(expr, Not):
        return not_op + sub(expr.operand, _PRECEDENCE[Not])
    # an operand of the same operator needs no parentheses (both are associative)
    if isinstance(expr, And):
        return and_op.join(sub(op, _PRECEDENCE[And]) for op in expr.operands)
    # ``a || b && c`` is right, but ``a || (b && c)`` is what a reader should not have to work out
    return or_op.join(sub(op, _PRECEDENCE[And] + 1) for op in expr.operands)


def to_source(expr: Expr) -> str:
    """The condition in source syntax, with only the parentheses it needs."""
    return _render(expr, str, "!", " && ", " || ")


def to_python(expr: Expr, call: Callable[[str], str]) -> str:
    """The condition as a Python expression; ``call(name)`` writes one method call."""
    return _render(expr, call, "not ", " and ", " or ")


def names(expr: Expr) -> list[str]:
    """Condition names in order of first appearance."""
    found: list[str] = []

    def walk(node: Expr) -> None:
        if isinstance(node, Name):
            if node.name not in found:
                found.append(node.name)
        elif isinstance(node, Not):
            walk(node.operand)
        else:
            for operand in node.operands:
                walk(operand)

    walk(expr)
    return found


def evaluate(expr: Expr, value: Callable[[str], bool]) -> bool:
    """Evaluate with short-circuit, asking ``value(name)`` for each condition reached."""
    if isinstance(expr, Name):
        return bool(value(expr.name))
    if isinstance(expr, Not):
        return not evaluate(expr.operand, value)
    if isinstance(expr, And):
        return all(evaluate(op, value) for op in expr.operands)
    return any(evaluate(op, value) for op in expr.operands)
