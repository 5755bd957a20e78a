"""The front matter of a machine source: the ``---`` block of ``key: value`` lines above the diagram.

Plain keys (``name``, ``module``, ``class``, ``failure_state``) take one value; ``deadlines:``
takes a list, ``[attempt-timeout, retry]``: the events the machine sends itself with
``start_deadline`` (they carry nothing, and callers get no method for them). Nested keys take
indented entries, one a line:

- ``timers:`` ``timer-30sec: 30`` (the period in seconds, which must agree with the name);
- ``untestable:`` ``SOURCE -> TARGET on event: why no unit test can take this edge``;
- ``imports:`` ``- from twisted.python.failure import Failure`` (what the payload types name);
- ``events:`` ``ack: {packet: Packet}`` (the payload an event carries, see :mod:`.payloads`);
- ``ignore:`` ``DONE: [ack, fail]`` or ``'*': [inbox-packet]`` (events a state may drop silently).

This module only splits the block into entries with their line numbers; :mod:`.source` checks
them against the diagram.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import attrs

from bitdust.automats.errors import AutomatSourceError
from bitdust.automats.mermaid import EVENT_NAME, STATE_NAME

MACHINE_NAME = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
MODULE_NAME = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*")
CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
TIMER_NAME = re.compile(r"timer-(?P<count>[0-9]+)(?P<unit>ms|sec|min|hour)")
TIMER_UNITS = {"ms": 0.001, "sec": 1.0, "min": 60.0, "hour": 3600.0}
EVENT_LIST = re.compile(rf"\[\s*(?:{EVENT_NAME.pattern}\s*(?:,\s*{EVENT_NAME.pattern}\s*)*)?\]")

REQUIRED_KEYS = ("name", "module", "class")
# The front matter keys whose entries are the indented lines below them.
NESTED_KEYS = ("timers", "untestable", "imports", "events", "ignore")
KNOWN_KEYS = (*REQUIRED_KEYS, "failure_state", "deadlines", *NESTED_KEYS)
_ENTRY = {
    "timers": "timer-event: seconds",
    "untestable": "SOURCE -> TARGET on event: reason",
    "imports": "- from module import Name",
    "events": "event: {name: Type, ...}",
    "ignore": "STATE: [event, ...]",
}

# One entry: its key (or the import statement), its value, and its line number.
Entry = tuple[str, str, int]


@attrs.frozen
class FrontMatter:
    """The entries of one front matter block, each with the line it is on."""

    keys: dict[str, str]
    key_lines: dict[str, int]
    timers: dict[str, tuple[float, int]]
    untestable: list[Entry]
    imports: list[tuple[str, int]]
    events: list[Entry]
    ignore: list[Entry]
    # The index of the first line after the closing '---'.
    body_start: int


def _strip_comment(value: str) -> str:
    return re.sub(r"\s+#.*$", "", value).strip()


def parse_front_matter(lines: list[str], path: Path) -> FrontMatter:
    """Split the front matter of ``lines``; raise :class:`AutomatSourceError` when it is malformed."""
    if not lines or lines[0].strip() != "---":
        raise AutomatSourceError(path, 1, "no front matter: the file must start with a '---' line")
    found = FrontMatter({}, {}, {}, [], [], [], [], 0)
    nested: str | None = None
    for index in range(1, len(lines)):
        lineno = index + 1
        raw = lines[index]
        if raw.strip() == "---":
            break
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0].isspace():
            if nested is None:
                raise AutomatSourceError(
                    path, lineno, f"unexpected indented line: only {', '.join(NESTED_KEYS)} have nested entries"
                )
            _nested_entry(found, nested, path, lineno, raw.strip())
            continue
        key, sep, value = raw.strip().partition(":")
        key, value = key.strip(), _strip_comment(value)
        if not sep or not key:
            raise AutomatSourceError(path, lineno, f"expected 'key: value' in front matter, got {raw.strip()!r}")
        nested = None
        if key not in KNOWN_KEYS:
            raise AutomatSourceError(path, lineno, f"unknown front matter key {key!r} (known: {', '.join(KNOWN_KEYS)})")
        if key in found.key_lines:
            raise AutomatSourceError(path, lineno, f"duplicate front matter key {key!r}")
        found.key_lines[key] = lineno
        if key in NESTED_KEYS:
            if value:
                raise AutomatSourceError(path, lineno, f"'{key}:' takes indented '{_ENTRY[key]}' lines")
            nested = key
            continue
        if not value:
            raise AutomatSourceError(path, lineno, f"front matter key {key!r} has no value")
        _check_key(path, lineno, key, value)
        found.keys[key] = value
    else:
        raise AutomatSourceError(path, 1, "front matter is not closed by a '---' line")
    for key in REQUIRED_KEYS:
        if key not in found.keys:
            raise AutomatSourceError(path, 1, f"front matter misses the required key {key!r}")
    return attrs.evolve(found, body_start=index + 1)


def _nested_entry(found: FrontMatter, nested: str, path: Path, lineno: int, text: str) -> None:
    if nested == "imports":
        if not text.startswith("- "):
            raise AutomatSourceError(path, lineno, f"an 'imports:' entry is '{_ENTRY['imports']}', got {text!r}")
        found.imports.append((_strip_comment(text[2:]), lineno))
        return
    key, sep, value = text.partition(":")
    key, value = key.strip(), _strip_comment(value)
    if not sep or not key:
        raise AutomatSourceError(path, lineno, f"expected '{_ENTRY[nested]}' under '{nested}:', got {text!r}")
    if nested == "timers":
        found.timers[key] = (_parse_timer(path, lineno, key, value, found.timers), lineno)
    elif nested == "untestable":
        found.untestable.append((key, value, lineno))
    elif nested == "events":
        found.events.append((key, value, lineno))
    else:
        found.ignore.append((key.strip("'\""), value, lineno))


def _check_key(path: Path, lineno: int, key: str, value: str) -> None:
    pattern, what = {
        "name": (MACHINE_NAME, "a lower-case name like 'proxy_session'"),
        "module": (MODULE_NAME, "a dotted module path like 'bitdust.main.lifecycle.initializer'"),
        "class": (CLASS_NAME, "a CapWords class name"),
        "failure_state": (STATE_NAME, "an UPPER_SNAKE state"),
        "deadlines": (EVENT_LIST, "a list of events like [retry, attempt-timeout]"),
    }[key]
    if not pattern.fullmatch(value):
        raise AutomatSourceError(path, lineno, f"bad {key} {value!r}: expected {what}")


def _parse_timer(path: Path, lineno: int, event: str, value: str, seen: dict[str, tuple[float, int]]) -> float:
    match = TIMER_NAME.fullmatch(event)
    if match is None:
        raise AutomatSourceError(
            path, lineno, f"bad timer name {event!r}: expected timer-<n>ms, timer-<n>sec, timer-<n>min or timer-<n>hour"
        )
    if event in seen:
        raise AutomatSourceError(path, lineno, f"timer {event} declared twice")
    try:
        period = float(value)
    except ValueError:
        period = math.nan
    if not math.isfinite(period) or period <= 0:
        raise AutomatSourceError(path, lineno, f"timer {event} needs a positive number of seconds, got {value!r}")
    expected = int(match.group("count")) * TIMER_UNITS[match.group("unit")]
    if not math.isclose(period, expected, rel_tol=1e-9, abs_tol=1e-12):
        raise AutomatSourceError(path, lineno, f"timer {event} must fire every {expected:g} s, not every {value} s")
    return period
