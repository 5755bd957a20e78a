"""Parse a state machine source, ``automats/<name>.md``, into a :class:`MachineSource`.

A source is Markdown a person reads (and any Mermaid-aware viewer draws) and the generator's only
input, so the parser is strict: every mistake is an :class:`AutomatSourceError` naming the file and
line, never a machine that silently does less than its diagram shows.

Inside the ```` ```mermaid ```` block the parser accepts ``stateDiagram-v2`` (first line),
transitions, blank lines and ``%%`` comments. It ignores what only decorates the drawing:
``direction``, ``state NAME : description``, one-line ``note ... : text`` and multi-line
``note ... end note`` blocks. Anything else (composite states, forks, choice, ``classDef``) is
rejected, because the generated dispatch could not honour it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import attrs

from bitdust.automats import conditions
from bitdust.automats.conditions import ConditionSyntaxError, Expr
from bitdust.automats.errors import AutomatSourceError

STATE_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
EVENT_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
ACTION_NAME = re.compile(r"do_[a-z0-9]+(?:_[a-z0-9]+)*")
MACHINE_NAME = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
MODULE_NAME = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*")
CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
TIMER_NAME = re.compile(r"timer-(?P<count>[0-9]+)(?P<unit>ms|sec|min|hour)")
TIMER_UNITS = {"ms": 0.001, "sec": 1.0, "min": 60.0, "hour": 3600.0}

REQUIRED_KEYS = ("name", "module", "class")
KNOWN_KEYS = (*REQUIRED_KEYS, "failure_state", "timers", "untestable")
# The front matter keys whose entries are the indented lines below them.
NESTED_KEYS = ("timers", "untestable")
# One entry of 'untestable:': the edge, then after the colon why no unit test can take it.
_UNTESTABLE = re.compile(r"(?P<src>\S+)\s*->\s*(?P<dst>\S+)\s+on\s+(?P<event>\S+)")

_ARROW = re.compile(r"(?P<src>\S+)\s*-->\s*(?P<dst>[^\s:]+)\s*(?::(?P<label>.*))?")
_LABEL = re.compile(r"(?P<event>[^\s\[\]/]+)\s*(?:\[(?P<cond>[^\[\]]*)\])?\s*(?:/(?P<actions>.*))?")
_MARKER = "[*]"


@attrs.frozen
class Edge:
    """One transition of the diagram, in source order."""

    source: str
    target: str
    event: str
    condition: Expr | None
    actions: tuple[str, ...]
    line: int

    @property
    def label(self) -> str:
        """The label in canonical form: ``event [condition] / action, action``."""
        text = self.event
        if self.condition is not None:
            text += f" [{conditions.to_source(self.condition)}]"
        if self.actions:
            text += " / " + ", ".join(self.actions)
        return text


@attrs.frozen
class MachineSource:
    """Everything the generator, the checks and the diagram need to know about one machine."""

    path: Path
    name: str
    module: str
    class_name: str
    initial_state: str
    states: tuple[str, ...]
    final_states: tuple[str, ...]
    edges: tuple[Edge, ...]
    failure_state: str | None = None
    timers: tuple[tuple[str, float], ...] = ()
    # Edges no unit test can take, each with the reason, from the front matter's 'untestable:'.
    untestable: tuple[tuple[Edge, str], ...] = ()

    @property
    def ref(self) -> str:
        """How generated code names its source: ``automats/<name>.md``."""
        return f"automats/{self.name}.md"

    @property
    def generated_module(self) -> str:
        return f"{self.module}_machine"

    @property
    def generated_class(self) -> str:
        return f"{self.class_name}Machine"

    @property
    def events(self) -> tuple[str, ...]:
        return _unique(edge.event for edge in self.edges)

    @property
    def actions(self) -> tuple[str, ...]:
        return _unique(action for edge in self.edges for action in edge.actions)

    @property
    def conditions(self) -> tuple[str, ...]:
        return _unique(
            name for edge in self.edges if edge.condition is not None for name in conditions.names(edge.condition)
        )

    def timer_states(self, event: str) -> tuple[str, ...]:
        """States with a transition on ``event``: the states where that timer runs."""
        return _unique(edge.source for edge in self.edges if edge.event == event)


def _unique(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def source_files(sources_dir: str | Path) -> list[Path]:
    """The machine sources of a directory, sorted so every run handles them in one order."""
    return sorted(Path(sources_dir).glob("*.md"))


def parse_source(path: str | Path) -> MachineSource:
    """Read and parse one source file; raise :class:`AutomatSourceError` when it is malformed."""
    path = Path(path)
    return parse_text(path.read_text(encoding="utf-8"), path)


def parse_text(text: str, path: str | Path) -> MachineSource:
    """Parse source ``text``; ``path`` is used in messages and must be named ``<name>.md``."""
    path = Path(path)
    lines = text.splitlines()
    keys, key_lines, timers, untestable, body_start = _parse_front_matter(lines, path)
    name = keys["name"]
    if path.suffix == ".md" and path.stem != name:
        raise AutomatSourceError(path, key_lines["name"], f"name {name!r} must match the file name {path.name!r}")
    block_line, block = _find_mermaid(lines, body_start, path)
    initial, states, finals, edges = _parse_diagram(block, block_line, path)

    failure = keys.get("failure_state")
    if failure is not None and failure not in states:
        raise AutomatSourceError(
            path, key_lines["failure_state"], f"failure_state {failure} is not a state of the diagram"
        )
    _check_timers(path, edges, timers)
    _check_shadowed(path, edges)
    marked = _resolve_untestable(path, edges, untestable)
    return MachineSource(
        path=path,
        name=name,
        module=keys["module"],
        class_name=keys["class"],
        initial_state=initial,
        states=states,
        final_states=finals,
        edges=edges,
        failure_state=failure,
        timers=tuple((event, period) for event, (period, _line) in timers.items()),
        untestable=marked,
    )


def _strip_comment(value: str) -> str:
    return re.sub(r"\s+#.*$", "", value).strip()


def _parse_front_matter(lines: list[str], path: Path):
    if not lines or lines[0].strip() != "---":
        raise AutomatSourceError(path, 1, "no front matter: the file must start with a '---' line")
    keys: dict[str, str] = {}
    key_lines: dict[str, int] = {}
    timers: dict[str, tuple[float, int]] = {}
    untestable: list[tuple[str, str, int]] = []
    nested: str | None = None
    for index in range(1, len(lines)):
        lineno = index + 1
        raw = lines[index]
        if raw.strip() == "---":
            break
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        key, sep, value = raw.strip().partition(":")
        key, value = key.strip(), _strip_comment(value)
        if not sep or not key:
            raise AutomatSourceError(path, lineno, f"expected 'key: value' in front matter, got {raw.strip()!r}")
        if raw[0].isspace():
            if nested is None:
                raise AutomatSourceError(
                    path, lineno, "unexpected indented line: only 'timers:' and 'untestable:' have nested entries"
                )
            if nested == "timers":
                timers[key] = (_parse_timer(path, lineno, key, value, timers), lineno)
            else:
                untestable.append((key, value, lineno))
            continue
        nested = None
        if key not in KNOWN_KEYS:
            raise AutomatSourceError(path, lineno, f"unknown front matter key {key!r} (known: {', '.join(KNOWN_KEYS)})")
        if key in key_lines:
            raise AutomatSourceError(path, lineno, f"duplicate front matter key {key!r}")
        key_lines[key] = lineno
        if key in NESTED_KEYS:
            if value:
                entry = "timer-event: seconds" if key == "timers" else "SOURCE -> TARGET on event: reason"
                raise AutomatSourceError(path, lineno, f"'{key}:' takes indented '{entry}' lines")
            nested = key
            continue
        if not value:
            raise AutomatSourceError(path, lineno, f"front matter key {key!r} has no value")
        _check_key(path, lineno, key, value)
        keys[key] = value
    else:
        raise AutomatSourceError(path, 1, "front matter is not closed by a '---' line")
    for key in REQUIRED_KEYS:
        if key not in keys:
            raise AutomatSourceError(path, 1, f"front matter misses the required key {key!r}")
    return keys, key_lines, timers, untestable, index + 1


def _check_key(path: Path, lineno: int, key: str, value: str) -> None:
    pattern, what = {
        "name": (MACHINE_NAME, "a lower-case name like 'proxy_session'"),
        "module": (MODULE_NAME, "a dotted module path like 'bitdust.main.initializer'"),
        "class": (CLASS_NAME, "a CapWords class name"),
        "failure_state": (STATE_NAME, "an UPPER_SNAKE state"),
    }[key]
    if not pattern.fullmatch(value):
        raise AutomatSourceError(path, lineno, f"bad {key} {value!r}: expected {what}")


def _parse_timer(path: Path, lineno: int, event: str, value: str, seen: dict) -> float:
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


def _find_mermaid(lines: list[str], start: int, path: Path) -> tuple[int, list[tuple[int, str]]]:
    """Return the line number of the block's first line and its ``(lineno, text)`` lines."""
    found: tuple[int, list[tuple[int, str]]] | None = None
    index = start
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped.startswith("```"):
            index += 1
            continue
        fence_line = index + 1
        info = stripped[3:].strip()
        body: list[tuple[int, str]] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append((index + 1, lines[index]))
            index += 1
        if index == len(lines):
            raise AutomatSourceError(path, fence_line, "code block is not closed by a '```' line")
        index += 1
        if info == "mermaid":
            if found is not None:
                raise AutomatSourceError(path, fence_line, f"a second mermaid block (the first is at line {found[0]})")
            found = (fence_line, body)
    if found is None:
        raise AutomatSourceError(path, start + 1, "no ```mermaid block with the state diagram")
    return found


def _parse_diagram(block: list[tuple[int, str]], fence_line: int, path: Path):
    content = [(n, text.strip()) for n, text in block if text.strip() and not text.strip().startswith("%%")]
    if not content or content[0][1] != "stateDiagram-v2":
        lineno = content[0][0] if content else fence_line
        raise AutomatSourceError(path, lineno, "the mermaid block must start with 'stateDiagram-v2'")
    states: list[str] = []
    finals: list[str] = []
    edges: list[Edge] = []
    initial: tuple[str, int] | None = None
    in_note = False
    for lineno, text in content[1:]:
        if in_note:
            in_note = text != "end note"
            continue
        words = text.split()
        if words[0] == "direction" or (words[0] == "note" and ":" in text):
            continue
        if words[0] == "note":
            in_note = True
            continue
        if words[0] == "state":
            _check_state_description(path, lineno, text)
            continue
        match = _ARROW.fullmatch(text)
        if match is None:
            raise AutomatSourceError(path, lineno, f"unsupported line in state diagram: {text!r}")
        src, dst, label = match.group("src"), match.group("dst"), match.group("label")
        for state in (src, dst):
            if state != _MARKER and not STATE_NAME.fullmatch(state):
                raise AutomatSourceError(path, lineno, f"bad state name {state!r}: states are UPPER_SNAKE")
        if _MARKER in (src, dst):
            if src == dst:
                raise AutomatSourceError(path, lineno, "'[*] --> [*]' is not a transition")
            if label is not None:
                raise AutomatSourceError(path, lineno, "a '[*]' line takes no label: only real transitions have events")
            if src == _MARKER:
                if initial is not None:
                    raise AutomatSourceError(
                        path, lineno, f"a second initial state (the first is at line {initial[1]})"
                    )
                initial = (dst, lineno)
            elif src not in finals:
                finals.append(src)
            states.append(dst if src == _MARKER else src)
            continue
        if label is None or not label.strip():
            raise AutomatSourceError(path, lineno, f"transition {src} --> {dst} has no label with an event")
        event, condition, actions = _parse_label(path, lineno, label.strip())
        states.extend((src, dst))
        edges.append(Edge(src, dst, event, condition, actions, lineno))
    if in_note:
        raise AutomatSourceError(path, content[-1][0], "note is not closed by 'end note'")
    if initial is None:
        raise AutomatSourceError(path, fence_line, "no initial state: add a '[*] --> STATE' line")
    return initial[0], _unique(states), tuple(finals), tuple(edges)


def _check_state_description(path: Path, lineno: int, text: str) -> None:
    match = re.fullmatch(r"state\s+(\S+)\s*:.*", text)
    if match is None:
        raise AutomatSourceError(path, lineno, f"only 'state NAME : description' is supported, got {text!r}")
    if not STATE_NAME.fullmatch(match.group(1)):
        raise AutomatSourceError(path, lineno, f"bad state name {match.group(1)!r}: states are UPPER_SNAKE")


def _parse_label(path: Path, lineno: int, label: str) -> tuple[str, Expr | None, tuple[str, ...]]:
    match = _LABEL.fullmatch(label)
    if match is None:
        raise AutomatSourceError(path, lineno, f"bad label {label!r}: expected 'event [condition] / action, action'")
    event = match.group("event")
    if not EVENT_NAME.fullmatch(event):
        raise AutomatSourceError(path, lineno, f"bad event name {event!r}: events are kebab-case")
    condition = None
    if match.group("cond") is not None:
        try:
            condition = conditions.parse_condition(match.group("cond"))
        except ConditionSyntaxError as exc:
            raise AutomatSourceError(path, lineno, str(exc)) from None
    actions: tuple[str, ...] = ()
    if match.group("actions") is not None:
        actions = tuple(action.strip() for action in match.group("actions").split(","))
        for action in actions:
            if not action:
                raise AutomatSourceError(path, lineno, f"empty action in label {label!r}")
            if not ACTION_NAME.fullmatch(action):
                raise AutomatSourceError(path, lineno, f"bad action name {action!r}: actions are do_* names")
    return event, condition, actions


def _check_timers(path: Path, edges: tuple[Edge, ...], timers: dict[str, tuple[float, int]]) -> None:
    used = set()
    for edge in edges:
        if edge.event.startswith("timer-"):
            if edge.event not in timers:
                raise AutomatSourceError(
                    path, edge.line, f"timer event {edge.event} is not declared in front matter 'timers'"
                )
            used.add(edge.event)
    for event, (_period, lineno) in timers.items():
        if event not in used:
            raise AutomatSourceError(path, lineno, f"timer {event} is declared but no transition uses it")


def _resolve_untestable(
    path: Path, edges: tuple[Edge, ...], entries: list[tuple[str, str, int]]
) -> tuple[tuple[Edge, str], ...]:
    """Match each 'untestable:' entry to its edge; an entry naming no edge, or without a reason, is an error.

    Edges are named by source, target and event, which is unique in every machine; when two edges
    share all three (they differ by condition), one entry marks them all.
    """
    marked: list[tuple[Edge, str]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for key, reason, lineno in entries:
        match = _UNTESTABLE.fullmatch(key)
        if match is None:
            raise AutomatSourceError(
                path, lineno, f"bad untestable entry {key!r}: expected 'SOURCE -> TARGET on event: reason'"
            )
        named = (match.group("src"), match.group("dst"), match.group("event"))
        if not reason:
            raise AutomatSourceError(path, lineno, f"untestable edge {key} needs a reason after the colon")
        if named in seen:
            raise AutomatSourceError(
                path, lineno, f"untestable edge {key} is listed twice (first at line {seen[named]})"
            )
        seen[named] = lineno
        found = [edge for edge in edges if (edge.source, edge.target, edge.event) == named]
        if not found:
            raise AutomatSourceError(path, lineno, f"untestable edge {key} is not a transition of the diagram")
        marked.extend((edge, reason) for edge in found)
    return tuple(marked)


def _check_shadowed(path: Path, edges: tuple[Edge, ...]) -> None:
    """Reject a transition that can never fire: first match wins, so nothing follows an unguarded one."""
    unguarded: dict[tuple[str, str], int] = {}
    for edge in edges:
        key = (edge.source, edge.event)
        if key in unguarded:
            raise AutomatSourceError(
                path,
                edge.line,
                f"transition can never fire: the transition from {edge.source} on {edge.event} "
                f"at line {unguarded[key]} has no condition and comes first",
            )
        if edge.condition is None:
            unguarded[key] = edge.line
