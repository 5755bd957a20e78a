"""Strict JSON (RFC 8259): what every other JSON parser and browser can read back.

Python's ``json`` module writes and reads ``NaN``, ``Infinity`` and ``-Infinity``, turns a number
like ``1e400`` into an infinite float, and lets strings carry lone UTF-16 surrogates
(``"\\ud800"``) that no UTF-8 encoder accepts. A value with any of these can be stored or queued
and then fail every time somebody tries to send it on; so values that outlive the request that
brought them (DHT records, events) go through :func:`dumps` and :func:`loads`, which refuse them
with a :class:`NotStrictJson` naming the reason.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotStrictJson(ValueError):
    """The value or text is not strict JSON; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise NotStrictJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NotStrictJson(f"the number {text[:40]} is out of range")
    return number


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


def loads(data: bytes | str) -> Any:
    """Parse strict JSON text; NotStrictJson for NaN, infinities, lone surrogates or bad syntax."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise NotStrictJson("not UTF-8 text") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NotStrictJson:
        raise
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        raise NotStrictJson(f"not JSON: {exc}") from None
    except RecursionError:
        raise NotStrictJson("not JSON: nested too deeply") from None
    if isinstance(data, str) or "\\u" in text:
        # ``\ud800`` escapes decode to lone surrogates; encoding finds them (and only them).
        dumps(value)
    return value


def is_strict(value: Any) -> str | None:
    """None when ``value`` is strict JSON, else the reason it is not."""
    try:
        dumps(value)
    except NotStrictJson as exc:
        return str(exc)
    return None
