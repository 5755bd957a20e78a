"""Turning what a client sent into the keyword arguments of an API method.

Values arrive in two shapes: strings (URL query string, path segments) and JSON values (a REST
body, WebSocket ``kwargs``). Each is coerced by the parameter's declared kind, so a method body
never sees ``"false"`` where it asked for a ``bool``. Every problem becomes a
:class:`~bitdust.main.errors.InvalidInput` naming the parameter; nothing else escapes from here,
which is what lets the transports answer 400 without guessing.

Rules, per kind:

- ``str``: strings only.
- ``int``: integers (not booleans), integral floats, or a decimal string such as ``"12"``.
- ``float``: numbers (not booleans) or a decimal string; never NaN or infinity.
- ``bool``: ``true``/``false``/``1``/``0`` (strings in any case, JSON booleans, JSON 0/1).
- ``list``: a JSON list, a JSON-encoded list string, or a comma-separated string (``""`` is ``[]``).
- ``dict``: a JSON object or a JSON-encoded object string.

JSON inside a string (``?items=[1,2]``) is decoded as strictly as a request body (no NaN, no
lone surrogates, no repeated keys; :mod:`bitdust.interface.api.decoding`): the transports check
the documents they decode, and this is the one place where a parameter holds another.
- ``any``: JSON values as given; a string from a query string stays a string.

After its kind, a value must satisfy the parameter's declared constraint (an enum, a range, a
non-empty string, a pattern: :mod:`bitdust.interface.api.constraints`).

A nullable parameter accepts JSON ``null``, and the string ``null`` when it came as a string.
When a REST request names the same parameter in two places (path, query string, body, or under
an alias) it is refused with 400 rather than one silently winning.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bitdust.interface.api import constraints, decoding
from bitdust.interface.api.spec import MethodSpec, Param
from bitdust.main.errors import InvalidInput

KIND_NAMES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean (true/false/1/0)",
    "list": "list (JSON list or comma-separated)",
    "dict": "JSON object",
    "any": "JSON value",
}

_INT_RE = re.compile(r"[+-]?[0-9]{1,64}")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]{1,64}(?:\.[0-9]{0,64})?|\.[0-9]{1,64})(?:[eE][+-]?[0-9]{1,4})?")
_TRUE = ("true", "1")
_FALSE = ("false", "0")


_REPEATED = object()  # a scalar parameter repeated in a query string


class _Invalid(Exception):
    """The value does not fit the kind; turned into an InvalidInput by the caller.

    ``problem`` is set when the value was JSON text holding something JSON does not allow.
    """

    def __init__(self, problem: decoding.Problem | None = None) -> None:
        super().__init__()
        self.problem = problem


def _show(value: object) -> str:
    """A short, safe rendering of a rejected value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:40]) + "..."
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else text[:40] + "..."
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _loads(text: str) -> object:
    try:
        value = decoding.loads(text)
    except decoding.InvalidJson as exc:
        raise _Invalid() from exc
    problem = decoding.find_problem(value)
    if problem is not None:
        raise _Invalid(problem)
    return value


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        raise _Invalid()
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        return int(value.strip())
    raise _Invalid()


def _to_float(value: object) -> float:
    if isinstance(value, bool):
        raise _Invalid()
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError as exc:
            raise _Invalid() from exc
    elif isinstance(value, str) and _FLOAT_RE.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        raise _Invalid()
    if not math.isfinite(number):
        raise _Invalid()
    return number


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _Invalid()


def _to_list(value: object) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            decoded = _loads(text)
            if isinstance(decoded, list):
                return decoded
            raise _Invalid()
        return [item.strip() for item in text.split(",") if item.strip()]
    raise _Invalid()


def _to_dict(value: object) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        decoded = _loads(value.strip())
        if isinstance(decoded, dict):
            return decoded
    raise _Invalid()


def _to_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid()


_CONVERTERS = {
    "str": _to_str,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "list": _to_list,
    "dict": _to_dict,
    "any": lambda value: value,
}


def coerce_value(param: Param, value: object, *, from_string: bool) -> object:
    """One value coerced to ``param.kind``; raises InvalidInput naming the parameter."""
    if value is None or (from_string and param.nullable and value == "null"):
        if param.nullable:
            return None
        raise InvalidInput(f"parameter {param.name}: expected {KIND_NAMES[param.kind]}, got null", parameter=param.name)
    try:
        converted = _CONVERTERS[param.kind](value)
    except _Invalid as exc:
        if exc.problem is not None:
            raise InvalidInput(decoding.describe_value(param.name, exc.problem), parameter=param.name) from None
        raise InvalidInput(
            f"parameter {param.name}: expected {KIND_NAMES[param.kind]}, got {_show(value)}", parameter=param.name
        ) from None
    return apply_constraint(param, converted)


def apply_constraint(param: Param, value: object) -> object:
    """``value`` (already of ``param.kind``) if it satisfies the parameter's declared constraint.

    The constraint is the one the OpenAPI document shows for the parameter, so what the document
    calls invalid is exactly what is refused here with 400. Defaults are not checked: they are
    the method's own choice, not client input.
    """
    return constraints.check(param.name, param.constraint, value)


def _default_of(param: Param) -> object:
    """A fresh copy of a mutable default, so one call cannot change the next call's default."""
    if isinstance(param.default, list | dict | set):
        return copy.deepcopy(param.default)
    return param.default


def _unknown_message(spec: MethodSpec, name: str) -> str:
    allowed = ", ".join(p.name for p in spec.params)
    if not allowed:
        return f"unknown parameter: {name}; {spec.name} takes no parameters"
    return f"unknown parameter: {name}; allowed: {allowed}"


def _parse(spec: MethodSpec, items: Iterable[tuple[str, object, bool, str]]) -> dict[str, Any]:
    """Resolve, coerce and complete ``(name, value, from_string, where)`` items; collect all errors."""
    problems: list[str] = []
    found: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for given, value, from_string, where in items:
        param = spec.param(given)
        if param is None:
            problems.append(_unknown_message(spec, str(given)))
            continue
        label = f"{given} in {where}" if where else given
        if param.name in seen:
            problems.append(f"parameter {param.name} given more than once: as {seen[param.name]} and as {label}")
            continue
        seen[param.name] = label
        if value is _REPEATED:
            problems.append(f"parameter {param.name} given more than once in the {where}")
            continue
        try:
            found[param.name] = coerce_value(param, value, from_string=from_string)
        except InvalidInput as exc:
            problems.extend(exc.errors)
    for param in spec.params:
        if param.name in seen:
            continue
        if param.required:
            problems.append(f"missing required parameter: {param.name}")
        else:
            found[param.name] = _default_of(param)
    if problems:
        raise InvalidInput(problems[0], errors=problems)
    return found


def parse_params(spec: MethodSpec, values: Mapping[str, Any], *, from_strings: bool) -> dict[str, Any]:
    """Keyword arguments for ``spec.func`` from one source of values.

    ``from_strings`` is true when every value is text (a query string, the CLI); false for JSON
    values (WebSocket ``kwargs``), where strings are still accepted for numbers and booleans.
    """
    return _parse(spec, ((name, value, from_strings, "") for name, value in values.items()))


def parse_request_params(
    spec: MethodSpec,
    *,
    path_args: Mapping[str, str],
    query: Mapping[str, list[str]],
    body: Mapping[str, Any],
) -> dict[str, Any]:
    """Keyword arguments from a REST request: path segments, query string and JSON body.

    ``query`` maps each name to all the values given for it; a name repeated in the query string
    is accepted only by a ``list`` parameter (each occurrence one item). A parameter given in two
    places is a 400: the client should say what it means once.
    """
    items: list[tuple[str, object, bool, str]] = [(name, value, True, "path") for name, value in path_args.items()]
    for name, values in query.items():
        param = spec.param(name)
        if len(values) == 1:
            items.append((name, values[0], True, "query string"))
        elif param is None or param.kind in ("list", "any"):
            items.append((name, list(values), True, "query string"))
        else:
            items.append((name, _REPEATED, True, "query string"))
    items.extend((name, value, False, "body") for name, value in body.items())
    return _parse(spec, items)
