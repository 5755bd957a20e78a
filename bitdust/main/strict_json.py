"""Strict JSON (RFC 8259): what every other JSON parser and browser can read back.

Python's ``json`` module writes and reads ``NaN``, ``Infinity`` and ``-Infinity``, turns a number
like ``1e400`` into an infinite float, keeps the last of a key given twice without a word, and
lets strings carry lone UTF-16 surrogates (``"\\ud800"``) that no UTF-8 encoder accepts. A value
with any of these can be stored or queued and then fail every time somebody tries to send it on.

This module is the one place those rules live. :func:`parse` reads a document and marks what
breaks them instead of raising, and :func:`find_problem` says what and where, so the API can name
the parameter at fault (``bitdust.interface.api.decoding`` words the message); :func:`loads` and
:func:`dumps` refuse with a :class:`NotStrictJson` naming the reason, for values that outlive the
request that brought them (DHT records, events).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import attrs

_SURROGATE = re.compile("[\ud800-\udfff]")


class NotStrictJson(ValueError):
    """The value or text is not strict JSON; the message says why."""


@attrs.frozen
class _NonStandardNumber:
    """Stands where the document had NaN, an infinity or an out-of-range number."""

    token: str


class _KeysRepeated(dict[str, Any]):
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


def parse(raw: bytes | bytearray | str) -> Any:
    """Parse a JSON document; NotStrictJson when it is not one (syntax, encoding, nesting too deep).

    Non-standard numbers and repeated keys do not raise here: they come back marked, so that
    :func:`find_problem` can say where they are (and a WebSocket frame still yields its call_id).
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    except UnicodeDecodeError:
        raise NotStrictJson("not UTF-8 text") from None
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, or an integer with too many digits
        raise NotStrictJson(f"not JSON: {exc}") from None


def _text_problem(text: str) -> str | None:
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"not valid Unicode text (lone surrogate U+{ord(found.group()):04X})"


def find_problem(document: Any) -> Problem | None:
    """The first value or key (in document order) that strict JSON does not allow, or None.

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
    return f"{clip(token, 40)} is out of range for a number (a 64-bit float)"


def show_text(text: str, limit: int = 40) -> str:
    """``text`` quoted with every non-ASCII character escaped: safe in any answer or log."""
    return json.dumps(clip(text, limit))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def loads(data: bytes | str) -> Any:
    """Parse strict JSON text; NotStrictJson naming the first thing it does not allow."""
    value = parse(data)
    problem = find_problem(value)
    if problem is not None:
        raise NotStrictJson(f"not strict JSON: {problem.reason}")
    return value


def dumps(value: Any, *, canonical: bool = False) -> bytes:
    """``value`` as UTF-8 JSON text; ``canonical`` sorts keys and drops spaces (for signing).

    NotStrictJson when the value holds NaN or an infinity, a string with a lone surrogate, or
    something that is not a JSON type at all.
    """
    try:
        if canonical:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        else:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:  # NaN, Infinity or a circular structure
        raise NotStrictJson(f"not strict JSON: {exc}") from None
    except TypeError as exc:
        raise NotStrictJson(f"not a JSON value: {exc}") from None
    except RecursionError:
        raise NotStrictJson("not strict JSON: nested too deeply") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotStrictJson("not strict JSON: a string holds a lone surrogate (not Unicode text)") from None


def is_strict(value: Any) -> str | None:
    """None when ``value`` is strict JSON, else the reason it is not."""
    try:
        dumps(value)
    except NotStrictJson as exc:
        return str(exc)
    return None
