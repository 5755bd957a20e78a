"""What a parameter's value must satisfy beyond its kind: one declaration, two readers.

An API method declares a :class:`Constraint` per parameter in its ``api_method(...)`` decorator.
The request decoding (:mod:`bitdust.interface.api.params`) applies it to every call after the
value was coerced to its kind, and the OpenAPI document (:mod:`bitdust.interface.openapi`) turns
the same object into JSON schema keywords. So a schema-driven client or fuzzer that believes the
document is told exactly what the engine refuses with 400, and nothing the engine accepts is
described as invalid.

Patterns are full matches, written in the part of the regular expression language that Python
and ECMA-262 (JSON schema's dialect) read alike: character classes, groups, alternation and
counted repetition. The document carries them anchored, ``^(?:...)$``; here they run through
``re.fullmatch``, which has the same meaning (``$`` alone would let a trailing newline through).
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

import attrs

from bitdust.main.errors import InvalidInput

_NUMBER_KINDS = ("int", "float")


Choice = str | int | float | bool
"""A value ``one_of`` can name: a JSON scalar (the OpenAPI document lists them as an ``enum``)."""

_Value = TypeVar("_Value")


@attrs.frozen
class Constraint:
    """Limits on one value; every field left at its default imposes nothing.

    ``choices``: the only accepted values (an enum). ``minimum``/``maximum``: a numeric range,
    each bound exclusive when its ``exclusive_*`` flag is set. ``min_length``/``max_length`` and
    ``pattern``: limits on a string. ``min_items``/``max_items``: limits on a list's length and
    ``item``: the constraint each item of a list must satisfy. ``explain``: what a client is
    told instead of the generic reason (``"a user name is 3 to 20 ..."``), so an answer reads
    as the rule the client broke rather than the pattern that encodes it.
    """

    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    item: Constraint | None = None
    explain: str = ""
    _compiled: re.Pattern[str] | None = attrs.field(init=False, eq=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.pattern is not None:
            object.__setattr__(self, "_compiled", re.compile(self.pattern))

    # -- checking -------------------------------------------------------------------------------

    def problem(self, value: object) -> str | None:
        """Why ``value`` (already of its parameter's kind) breaks this constraint, or None."""
        reason = self._problem(value)
        if reason is not None and self.explain:
            return f"{self.explain}, got {_show_choice(value)}" if isinstance(value, str) else self.explain
        return reason

    def _problem(self, value: object) -> str | None:
        if value is None:
            return None  # nullable parameters: null is the kind's business, not a constraint's
        if self.choices and not any(_same(value, choice) for choice in self.choices):
            shown = ", ".join(_show_choice(c) for c in self.choices)
            return f"{_show_choice(value)} is not one of {shown}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self._number_problem(value)
        if isinstance(value, str):
            return self._text_problem(value)
        if isinstance(value, list):
            return self._list_problem(value)
        return None

    def _number_problem(self, value: float) -> str | None:
        low, high = self.minimum, self.maximum
        too_low = low is not None and (value <= low if self.exclusive_minimum else value < low)
        too_high = high is not None and (value >= high if self.exclusive_maximum else value > high)
        if too_low or too_high:
            return f"expected a number {self.describe_range()}"
        return None

    def _text_problem(self, value: str) -> str | None:
        if self.min_length is not None and len(value) < self.min_length:
            return "must not be empty" if self.min_length == 1 else f"expected at least {self.min_length} characters"
        if self.max_length is not None and len(value) > self.max_length:
            return f"expected at most {self.max_length} characters"
        if self._compiled is not None and not self._compiled.fullmatch(value):
            return f"expected text matching {self.pattern}"
        return None

    def _list_problem(self, value: list[Any]) -> str | None:
        if self.min_items is not None and len(value) < self.min_items:
            return f"expected at least {self.min_items} items"
        if self.max_items is not None and len(value) > self.max_items:
            return f"expected at most {self.max_items} items"
        if self.item is not None:
            for index, item in enumerate(value):
                reason = self.item.problem(item)
                if reason is not None:
                    return f"item {index}: {reason}"
        return None

    def describe_range(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"{'over' if self.exclusive_minimum else 'from'} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"{'under' if self.exclusive_maximum else 'up to'} {self.maximum:g}")
        return " and ".join(parts)

    # -- the document ---------------------------------------------------------------------------

    def schema(self) -> dict[str, Any]:
        """The JSON schema keywords (OpenAPI 3.0 dialect) that say the same as this constraint."""
        keywords: dict[str, Any] = {}
        if self.choices:
            keywords["enum"] = list(self.choices)
        if self.minimum is not None:
            keywords["minimum"] = self.minimum
            if self.exclusive_minimum:
                keywords["exclusiveMinimum"] = True
        if self.maximum is not None:
            keywords["maximum"] = self.maximum
            if self.exclusive_maximum:
                keywords["exclusiveMaximum"] = True
        if self.min_length is not None:
            keywords["minLength"] = self.min_length
        if self.max_length is not None:
            keywords["maxLength"] = self.max_length
        if self.pattern is not None:
            keywords["pattern"] = f"^(?:{self.pattern})$"
        if self.min_items is not None:
            keywords["minItems"] = self.min_items
        if self.max_items is not None:
            keywords["maxItems"] = self.max_items
        return keywords

    def item_schema(self) -> dict[str, Any]:
        """Schema keywords of each item of a list parameter."""
        return self.item.schema() if self.item is not None else {}

    # -- declaration checks ---------------------------------------------------------------------

    def check_fits(self, kind: str, name: str) -> None:
        """Refuse, when the method is declared, a constraint that cannot apply to ``kind``."""
        numeric = self.minimum is not None or self.maximum is not None
        textual = self.min_length is not None or self.max_length is not None or self.pattern is not None
        listy = self.min_items is not None or self.max_items is not None or self.item is not None
        if numeric and kind not in _NUMBER_KINDS:
            raise ValueError(f"parameter {name}: a range needs an int or float parameter, not {kind}")
        if textual and kind != "str":
            raise ValueError(f"parameter {name}: length and pattern need a str parameter, not {kind}")
        if listy and kind != "list":
            raise ValueError(f"parameter {name}: item limits need a list parameter, not {kind}")
        for choice in self.choices:
            if self.problem(choice) is not None or not _fits_kind(choice, kind):
                raise ValueError(f"parameter {name}: choice {choice!r} does not fit the parameter")


def _fits_kind(value: object, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    return True


def _same(value: object, choice: Choice) -> bool:
    """Equal and of the same JSON type (``True`` is not the choice ``1``)."""
    return isinstance(value, bool) == isinstance(choice, bool) and value == choice


def _show_choice(choice: object) -> str:
    text = repr(choice) if isinstance(choice, str) else str(choice)
    return text if len(text) <= 40 else text[:40] + "..."


# -- short constructors, so a decorator reads as a sentence --------------------------------------


def one_of(*choices: Choice) -> Constraint:
    """The value must be one of ``choices``."""
    return Constraint(choices=tuple(choices))


def between(
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
) -> Constraint:
    """A number within a range; bounds are inclusive unless said otherwise."""
    return Constraint(
        minimum=minimum, maximum=maximum, exclusive_minimum=exclusive_minimum, exclusive_maximum=exclusive_maximum
    )


def text(
    min_length: int | None = 1, max_length: int | None = None, pattern: str | None = None, *, explain: str = ""
) -> Constraint:
    """A string: by default only a non-empty one."""
    return Constraint(min_length=min_length, max_length=max_length, pattern=pattern, explain=explain)


def each(item: Constraint, *, min_items: int | None = None, max_items: int | None = None) -> Constraint:
    """A list whose every item satisfies ``item``."""
    return Constraint(item=item, min_items=min_items, max_items=max_items)


def check(name: str, constraint: Constraint | None, value: _Value) -> _Value:
    """``value`` when it satisfies ``constraint``; else an InvalidInput naming the parameter."""
    if constraint is None:
        return value
    reason = constraint.problem(value)
    if reason is not None:
        raise InvalidInput(f"parameter {name}: {reason}", parameter=name)
    return value
