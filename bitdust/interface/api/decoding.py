"""Request text and JSON as the API accepts them: the one check every REST and WebSocket value passes.

Python's ``json`` module is more lenient than JSON (RFC 8259), and the leniency used to slip past
the parameter checks and fail only when the answer, a log line, a file or a peer packet was
written, after the method had done its work. So a JSON document (a REST body, a WebSocket frame,
a JSON-encoded query value) is refused, before any method runs, when it holds:

- ``NaN``, ``Infinity`` or ``-Infinity``, or a number too large for a float (``1e400``): no JSON
  parser but Python's takes them back, and an answer carrying them cannot be written;
- a lone surrogate (``"\\ud800"``) in a string or a key: valid JSON syntax, but not Unicode text,
  so it cannot be stored as UTF-8 or sent on;
- the same key twice in one object: JSON leaves the meaning open, Python keeps the last silently.

Text outside JSON (query strings, path segments) is percent-decoded and must be UTF-8; Python's
strict decoder already refuses encoded surrogates there.

Problems are reported with their place (the parameter and the path inside its value), so the
client knows what to fix. Every message is plain ASCII where it shows what the client sent.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import attrs

_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOWN_PATH = 120


class InvalidJson(ValueError):
    """The bytes are not a JSON document at all (syntax, encoding, or nesting too deep)."""


@attrs.frozen
class _NonStandardNumber:
    """Stands where the document had NaN, an infinity or an out-of-range number."""

    token: str


class _KeysRepeated(dict):  # type: ignore[type-arg]
    """An object in which some key appeared more than once (the last value is kept)."""

    repeated: list[str]


@attrs.frozen
class Problem:
    """What is wrong and where: ``path`` leads from the document's root to the value.

    For a problem with a key, ``path`` leads to the object holding it and ``key`` is set.
    """

    path: tuple[str | int, ...]
    reason: str
    key: str | None = None
    repeated_key: bool = False


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in result and key not in repeated:
            repeated.append(key)
        result[key] = value
    if not repeated:
        return result
    marked = _KeysRepeated(result)
    marked.repeated = repeated
    return marked


def _float(text: str) -> float | _NonStandardNumber:
    value = float(text)
    return value if math.isfinite(value) else _NonStandardNumber(text)


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_float, parse_constant=_NonStandardNumber)


def loads(raw: bytes | str) -> Any:
    """Parse a JSON document; raises :class:`InvalidJson` when it is not one.

    Non-standard numbers and repeated keys do not raise here: they come back marked, so that
    :func:`find_problem` can say where they are (and a WebSocket frame still yields its call_id).
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidJson(str(exc)) from exc


def _text_problem(text: str) -> str | None:
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"not valid Unicode text (lone surrogate U+{ord(found.group()):04X})"


def find_problem(document: Any) -> Problem | None:
    """The first value or key (in document order) that JSON or Unicode does not allow, or None.

    Walks with an explicit stack: a document as deep as the parser accepts must not overflow here.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            reason = _text_problem(value)
            if reason is not None:
                return Problem(path, reason)
        elif isinstance(value, _NonStandardNumber):
            return Problem(path, _number_reason(value.token))
        elif isinstance(value, dict):
            for key in value:
                reason = _text_problem(key)
                if reason is not None:
                    return Problem(path, reason, key=key)
            if isinstance(value, _KeysRepeated):
                key = value.repeated[0]
                return Problem(path, f"the key {show_text(key)} appears more than once", key=key, repeated_key=True)
            stack.extend((item, (*path, key)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in reversed(list(enumerate(value))))
    return None


def _number_reason(token: str) -> str:
    if token in ("NaN", "Infinity", "-Infinity"):
        return f"{token} is not a JSON number (send null or a string instead)"
    return f"{_clip(token, 40)} is out of range for a number (a 64-bit float)"


def show_text(text: str, limit: int = 40) -> str:
    """``text`` quoted with every non-ASCII character escaped: safe in any answer or log."""
    return json.dumps(_clip(text, limit))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _place(path: tuple[str | int, ...]) -> str:
    shown = ""
    for step in path:
        if isinstance(step, int):
            shown += f"[{step}]"
        else:
            name = step if step.isidentifier() else show_text(step, 30)
            shown += f".{name}" if shown else name
    return _clip(shown, _SHOWN_PATH)


def describe(problem: Problem, *, params_at: tuple[str | int, ...] = (), document: str = "body") -> str:
    """A client-facing message for ``problem``.

    ``params_at`` is where the method's parameters sit in the document (the root of a REST body,
    ``kwargs`` in a WebSocket frame), so the message can name the parameter at fault.
    """
    depth = len(params_at)
    path = problem.path
    reason = problem.reason
    if problem.key is not None and not problem.repeated_key:
        reason = f"the key {show_text(problem.key)} is {reason}"
    if path == params_at and problem.key is not None:  # a parameter name itself
        if problem.repeated_key:
            return f"parameter {_clip(problem.key, 60)} given more than once in the {document}"
        return f"parameter name {show_text(problem.key)} is {problem.reason}"
    if path[:depth] == params_at and len(path) > depth:
        inner = path[depth:]
        subject = f"parameter {_clip(str(inner[0]), 60)}"
    else:
        inner = path
        subject = f"{document} field {_place(path[:1])}" if path else document
    if len(inner) > 1:
        return f"{subject}: {reason} (at {_place(inner)})"
    return f"{subject}: {reason}"


def describe_value(name: str, problem: Problem) -> str:
    """A message for ``problem`` inside the JSON value of parameter ``name``."""
    return describe(attrs.evolve(problem, path=(name, *problem.path)))


def url_text(component: str) -> str:
    """A percent-encoded URL component as text; raises ``UnicodeDecodeError`` unless it is UTF-8.

    ``+`` is not touched here: callers that decode a query string turn it into a space first.
    """
    return unquote_to_bytes(component).decode("utf-8")
