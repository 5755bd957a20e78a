"""Event payloads: what each event carries, and the parameters of the actions and conditions it reaches.

The front matter's ``events:`` entry ``ack: {packet: Packet, hops: int}`` says that ``ack`` carries
a ``packet`` and a ``hops``; an event without an entry carries nothing. Types are Python
expressions, written as a type hint would be, naming builtins or what ``imports:`` brings in.

An action (or condition) on edges of one event takes that event's fields as keyword-only
parameters. When it runs on edges of several events, it takes the union of their fields: a field
every one of those events carries is required; a field only some carry is ``Type | None`` with a
default of None (the dispatch passes exactly the fields of the event that fired). So
``do_report_done`` on ``sent`` (nothing) and ``ack`` ``{packet: Packet}`` is
``do_report_done(self, *, packet: Packet | None = None)``. A field name means one thing in one
machine: two events that carry the same name must give it the same type.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Iterable, Mapping, Sequence

import attrs

FIELD_NAME_HINT = "a lower_snake Python name"


@attrs.frozen
class Field:
    """One named, typed value an event carries."""

    name: str
    type: str


@attrs.frozen
class Parameter:
    """One keyword-only parameter of an action or a condition."""

    name: str
    type: str
    required: bool

    def declaration(self) -> str:
        """How the parameter is written in a signature."""
        if self.required:
            return f"{self.name}: {self.type}"
        return f"{self.name}: {self.type} | None = None"


class PayloadSyntaxError(ValueError):
    """An ``events:`` entry is not ``{name: Type, ...}``; the message says what is wrong."""


def _split_top_level(text: str) -> list[str]:
    """Split ``text`` on the commas that are not inside brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def parse_payload(text: str) -> tuple[Field, ...]:
    """Parse ``{name: Type, ...}``; ``{}`` is an event that carries nothing."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise PayloadSyntaxError(f"a payload is written {{name: Type, ...}}, got {text!r}")
    inner = text[1:-1].strip()
    if not inner:
        return ()
    fields: list[Field] = []
    for part in _split_top_level(inner):
        name, sep, type_text = part.partition(":")
        name, type_text = name.strip(), type_text.strip()
        if not sep or not type_text:
            raise PayloadSyntaxError(f"payload field {part!r} needs a type: 'name: Type'")
        if not name.isidentifier() or keyword.iskeyword(name) or not name.islower() or name.startswith("_"):
            raise PayloadSyntaxError(f"bad payload field name {name!r}: expected {FIELD_NAME_HINT}")
        try:
            ast.parse(type_text, mode="eval")
        except SyntaxError:
            raise PayloadSyntaxError(f"payload field {name}: {type_text!r} is not a Python type expression") from None
        if any(field.name == name for field in fields):
            raise PayloadSyntaxError(f"payload field {name} is given twice")
        fields.append(Field(name, " ".join(type_text.split())))
    return tuple(fields)


def parameters(events: Sequence[str], payloads: Mapping[str, tuple[Field, ...]]) -> tuple[Parameter, ...]:
    """The keyword-only parameters of an action or condition that runs on ``events``.

    Fields come in the order the events first name them; see the module docstring for which are
    required. Raises ValueError when two of the events give one field name different types.
    """
    types: dict[str, str] = {}
    carried_by: dict[str, int] = {}
    for event in events:
        for field in payloads.get(event, ()):
            known = types.setdefault(field.name, field.type)
            if known != field.type:
                raise ValueError(f"field {field.name} is {known} in one event and {field.type} in {event}")
            carried_by[field.name] = carried_by.get(field.name, 0) + 1
    return tuple(Parameter(name, types[name], carried_by[name] == len(events)) for name in types)


def names(fields: Iterable[Field]) -> tuple[str, ...]:
    return tuple(field.name for field in fields)
