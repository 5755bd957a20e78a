"""Parse a state machine source, ``automats/<name>.md``, into a :class:`MachineSource`.

A source is Markdown a person reads (and any Mermaid-aware viewer draws) and the generator's only
input, so the parser is strict: every mistake is an :class:`AutomatSourceError` naming the file and
line, never a machine that silently does less than its diagram shows.

The front matter is read by :mod:`.front_matter`, the ```` ```mermaid ```` diagram by
:mod:`.mermaid`, event payloads by :mod:`.payloads`; this module puts them together and checks
that what the front matter says (timers, payloads, the ignore policy, untestable edges) fits the
diagram.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import attrs

from bitdust.automats import conditions, payloads
from bitdust.automats.errors import AutomatSourceError
from bitdust.automats.front_matter import MACHINE_NAME, Entry, parse_front_matter
from bitdust.automats.mermaid import EVENT_NAME, STATE_NAME, Edge, find_mermaid, parse_diagram, unique
from bitdust.automats.payloads import Field, Parameter, PayloadSyntaxError
from bitdust.automats.runtime import reserved_names

__all__ = ["MACHINE_NAME", "Edge", "MachineSource", "parse_source", "parse_text", "source_files"]

# One entry of 'untestable:': the edge, then after the colon why no unit test can take it.
_UNTESTABLE = re.compile(r"(?P<src>\S+)\s*->\s*(?P<dst>\S+)\s+on\s+(?P<event>\S+)")
# The 'ignore:' key that stands for every state.
ANY_STATE = "*"


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
    # Import statements the payload types need, from 'imports:'.
    imports: tuple[str, ...] = ()
    # What each event carries, from 'events:'; an event not listed carries nothing.
    payloads: tuple[tuple[str, tuple[Field, ...]], ...] = ()
    # Events each state may drop silently ('*': every state), from 'ignore:'.
    ignore: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Events the machine sends itself with start_deadline, from 'deadlines:'.
    deadlines: tuple[str, ...] = ()

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
        return unique(edge.event for edge in self.edges)

    @property
    def actions(self) -> tuple[str, ...]:
        return unique(action for edge in self.edges for action in edge.actions)

    @property
    def conditions(self) -> tuple[str, ...]:
        return unique(
            name for edge in self.edges if edge.condition is not None for name in conditions.names(edge.condition)
        )

    @property
    def timer_events(self) -> frozenset[str]:
        return frozenset(event for event, _period in self.timers)

    def edge_states(self, event: str) -> tuple[str, ...]:
        """States with a transition on ``event``."""
        return unique(edge.source for edge in self.edges if edge.event == event)

    def timer_states(self, event: str) -> tuple[str, ...]:
        """The states where timer ``event`` runs: those with a transition on it."""
        return self.edge_states(event)

    def payload(self, event: str) -> tuple[Field, ...]:
        """The fields ``event`` carries, in declaration order."""
        return dict(self.payloads).get(event, ())

    def ignored_states(self, event: str) -> tuple[str, ...]:
        """States where ``event`` has no transition and the source lets it be dropped silently."""
        handled = set(self.edge_states(event))
        listed = {state for state, events in self.ignore if event in events}
        wanted = set(self.states) if ANY_STATE in listed else listed
        return tuple(state for state in self.states if state in wanted and state not in handled)

    def events_of(self, name: str) -> tuple[str, ...]:
        """The events whose edges run action ``name`` or ask condition ``name``."""
        if name.startswith("do_"):
            return unique(edge.event for edge in self.edges if name in edge.actions)
        return unique(
            edge.event for edge in self.edges if edge.condition is not None and name in conditions.names(edge.condition)
        )

    def parameters(self, name: str) -> tuple[Parameter, ...]:
        """The keyword-only parameters of action or condition ``name`` (see :mod:`.payloads`)."""
        return payloads.parameters(self.events_of(name), dict(self.payloads))


def method_name(event: str) -> str:
    """The generated method that sends ``event``: ``attempt-timeout`` is ``attempt_timeout()``."""
    return event.replace("-", "_")


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
    front = parse_front_matter(lines, path)
    keys, key_lines = front.keys, front.key_lines
    name = keys["name"]
    if path.suffix == ".md" and path.stem != name:
        raise AutomatSourceError(path, key_lines["name"], f"name {name!r} must match the file name {path.name!r}")
    block_line, block = find_mermaid(lines, front.body_start, path)
    initial, states, finals, edges = parse_diagram(block, block_line, path)

    failure = keys.get("failure_state")
    if failure is not None and failure not in states:
        raise AutomatSourceError(
            path, key_lines["failure_state"], f"failure_state {failure} is not a state of the diagram"
        )
    _check_timers(path, edges, front.timers)
    _check_shadowed(path, edges)
    marked = _resolve_untestable(path, edges, front.untestable)
    source = MachineSource(
        path=path,
        name=name,
        module=keys["module"],
        class_name=keys["class"],
        initial_state=initial,
        states=states,
        final_states=finals,
        edges=edges,
        failure_state=failure,
        timers=tuple((event, period) for event, (period, _line) in front.timers.items()),
        untestable=marked,
        imports=tuple(_check_import(path, statement, lineno) for statement, lineno in front.imports),
        payloads=_resolve_payloads(path, edges, front.events, set(front.timers)),
        ignore=_resolve_ignore(path, states, edges, front.ignore),
        deadlines=_resolve_deadlines(path, edges, keys.get("deadlines"), key_lines.get("deadlines", 1)),
    )
    for event in source.deadlines:
        if source.payload(event):
            raise AutomatSourceError(path, key_lines["deadlines"], f"deadline {event} is sent by the clock: no payload")
    _check_event_methods(source, key_lines.get("events", 1))
    _check_parameters(source, key_lines.get("events", 1))
    return source


def _check_import(path: Path, statement: str, lineno: int) -> str:
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        tree = None
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Import | ast.ImportFrom):
        raise AutomatSourceError(path, lineno, f"an import is one 'from module import Name' line, got {statement!r}")
    return statement


def _resolve_payloads(
    path: Path, edges: tuple[Edge, ...], entries: list[Entry], timers: set[str]
) -> tuple[tuple[str, tuple[Field, ...]], ...]:
    events = {edge.event for edge in edges}
    found: dict[str, tuple[Field, ...]] = {}
    for event, text, lineno in entries:
        if event not in events:
            raise AutomatSourceError(path, lineno, f"'events:' names {event!r}, which no transition uses")
        if event in found:
            raise AutomatSourceError(path, lineno, f"the payload of {event} is given twice")
        try:
            fields = payloads.parse_payload(text)
        except PayloadSyntaxError as exc:
            raise AutomatSourceError(path, lineno, f"event {event}: {exc}") from None
        if fields and event in timers:
            raise AutomatSourceError(path, lineno, f"timer event {event} is fired by the clock and carries nothing")
        found[event] = fields
    return tuple(found.items())


def _resolve_ignore(
    path: Path, states: tuple[str, ...], edges: tuple[Edge, ...], entries: list[Entry]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Check each 'ignore:' entry: a state (or '*') and a list of the machine's events without an edge there."""
    events = {edge.event for edge in edges}
    found: dict[str, tuple[str, ...]] = {}
    for state, text, lineno in entries:
        if state != ANY_STATE and (not STATE_NAME.fullmatch(state) or state not in states):
            raise AutomatSourceError(path, lineno, f"'ignore:' names {state!r}, which is not a state of the diagram")
        if state in found:
            raise AutomatSourceError(path, lineno, f"the ignore list of {state} is given twice")
        if not (text.startswith("[") and text.endswith("]")):
            raise AutomatSourceError(path, lineno, f"an ignore list is written [event, ...], got {text!r}")
        listed = tuple(item.strip() for item in text[1:-1].split(",") if item.strip())
        for event in listed:
            if not EVENT_NAME.fullmatch(event) or event not in events:
                raise AutomatSourceError(path, lineno, f"ignore list of {state} names {event!r}, not an event here")
            if state != ANY_STATE and any(e.source == state and e.event == event for e in edges):
                raise AutomatSourceError(
                    path, lineno, f"{state} has a transition on {event}: an event with a transition is not ignored"
                )
        if len(set(listed)) != len(listed):
            raise AutomatSourceError(path, lineno, f"the ignore list of {state} names an event twice")
        found[state] = listed
    return tuple(found.items())


def _resolve_deadlines(path: Path, edges: tuple[Edge, ...], text: str | None, lineno: int) -> tuple[str, ...]:
    if text is None:
        return ()
    listed = tuple(item.strip() for item in text.strip()[1:-1].split(",") if item.strip())
    events = {edge.event for edge in edges}
    for event in listed:
        if event not in events or event.startswith("timer-"):
            raise AutomatSourceError(path, lineno, f"deadline {event!r} is not a (non-timer) event of the diagram")
    if len(set(listed)) != len(listed):
        raise AutomatSourceError(path, lineno, "a deadline is listed twice")
    return listed


def _check_event_methods(source: MachineSource, lineno: int) -> None:
    """An event's method must not hide what every machine has (``state``, ``destroy`` ...)."""
    taken = reserved_names()
    for event in source.events:
        if event in source.timer_events or event in source.deadlines:
            continue  # sent by the clock: no method
        if method_name(event) in taken or method_name(event) in (*source.actions, *source.conditions):
            raise AutomatSourceError(
                source.path, lineno, f"event {event}: its method {method_name(event)}() would hide a machine attribute"
            )


def _check_parameters(source: MachineSource, lineno: int) -> None:
    for name in (*source.actions, *source.conditions):
        try:
            source.parameters(name)
        except ValueError as exc:
            raise AutomatSourceError(source.path, lineno, f"{name}: {exc}") from None


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
