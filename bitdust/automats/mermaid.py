"""The body of a machine source: the ```` ```mermaid ```` block with the state diagram.

Inside the block the parser accepts ``stateDiagram-v2`` (first line), transitions, blank lines and
``%%`` comments. It ignores what only decorates the drawing: ``direction``, ``state NAME :
description``, one-line ``note ... : text`` and multi-line ``note ... end note`` blocks. Anything
else (composite states, forks, choice, ``classDef``) is rejected, because the generated dispatch
could not honour it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import attrs

from bitdust.automats import conditions
from bitdust.automats.conditions import ConditionSyntaxError, Expr
from bitdust.automats.errors import AutomatSourceError

STATE_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
EVENT_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
ACTION_NAME = re.compile(r"do_[a-z0-9]+(?:_[a-z0-9]+)*")

_ARROW = re.compile(r"(?P<src>\S+)\s*-->\s*(?P<dst>[^\s:]+)\s*(?::(?P<label>.*))?")
_LABEL = re.compile(r"(?P<event>[^\s\[\]/]+)\s*(?:\[(?P<cond>[^\[\]]*)\])?\s*(?:/(?P<actions>.*))?")
_MARKER = "[*]"

# What a parsed diagram is: initial state, states, final states and the edges in source order.
Diagram = tuple[str, tuple[str, ...], tuple[str, ...], tuple["Edge", ...]]


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


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """``items`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))


def find_mermaid(lines: list[str], start: int, path: Path) -> tuple[int, list[tuple[int, str]]]:
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


def parse_diagram(block: list[tuple[int, str]], fence_line: int, path: Path) -> Diagram:
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
    return initial[0], unique(states), tuple(finals), tuple(edges)


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
