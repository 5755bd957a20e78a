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

The rules themselves live in :mod:`bitdust.main.strict_json` (values kept beyond a request, DHT
records and events, obey the same ones); this module turns a problem into the client's message.
Problems are reported with their place (the parameter and the path inside its value), so the
client knows what to fix. Every message is plain ASCII where it shows what the client sent.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import attrs

from bitdust.main.strict_json import NotStrictJson as InvalidJson
from bitdust.main.strict_json import Problem, clip, find_problem, show_text
from bitdust.main.strict_json import parse as loads

__all__ = ["InvalidJson", "Problem", "describe", "describe_value", "find_problem", "loads", "show_text", "url_text"]

_SHOWN_PATH = 120


def _place(path: tuple[str | int, ...]) -> str:
    shown = ""
    for step in path:
        if isinstance(step, int):
            shown += f"[{step}]"
        else:
            name = step if step.isidentifier() else show_text(step, 30)
            shown += f".{name}" if shown else name
    return clip(shown, _SHOWN_PATH)


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
            return f"parameter {clip(problem.key, 60)} given more than once in the {document}"
        return f"parameter name {show_text(problem.key)} is {problem.reason}"
    if path[:depth] == params_at and len(path) > depth:
        inner = path[depth:]
        subject = f"parameter {clip(str(inner[0]), 60)}"
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
