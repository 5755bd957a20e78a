"""Generate ``<module>_machine.py`` from ``automats/<name>.md``: ``make automats``.

The generated class holds what the source says (states, events and their payloads, timers, the
ignore policy), one typed method per event (``machine.ack(packet=...)``, keyword-only, ``-``
written ``_``), and an explicit ``A(event, payload)`` dispatch written as plain if/elif, so a
reader can follow every edge in Python and a debugger can step through it. Where a state's edges
on one event are guarded, the dispatch is the decision tree of :mod:`bitdust.automats.decision`:
each condition is called at most once per event, in the order the first-match rule over the
diagram's edges asks for it. The ``do_*``/``is_*`` signatures the dispatch calls are declared for
the type checker only (under ``TYPE_CHECKING``), so mypy checks the hand-written subclass's
overrides, and :mod:`bitdust.automats.checks` reports a missing method or wrong parameter names.

Output depends only on the source, so generating twice gives byte-identical files and
``--check`` can tell a stale file from a fresh one.

Usage::

    python -m bitdust.automats.generator --sources automats --root .
    python -m bitdust.automats.generator --check          # exit 1 when a file is stale or missing
    python -m bitdust.automats.generator --out /tmp/gen   # write flat into /tmp/gen instead
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bitdust.automats import decision
from bitdust.automats.errors import AutomatSourceError
from bitdust.automats.source import Edge, MachineSource, method_name, parse_source, source_files

__all__ = ["check_all", "generate", "generate_all", "generated_path", "main", "parse_source"]

_INDENT = "    "


def _q(text: str) -> str:
    """A Python string literal; every name reaching here was validated, so no escapes are needed."""
    return f'"{text}"'


def _tuple(items: Sequence[str], indent: str) -> list[str]:
    if not items:
        return ["()"]
    return ["(", *(f"{indent}{_INDENT}{_q(item)}," for item in items), f"{indent})"]


def _frozenset(items: Sequence[str], indent: str) -> list[str]:
    if not items:
        return ["frozenset()"]
    members = [f"{indent}{_INDENT * 2}{_q(item)}," for item in sorted(items)]
    return ["frozenset(", f"{indent}{_INDENT}{{", *members, f"{indent}{_INDENT}}}", f"{indent})"]


def _assign(name: str, value: list[str]) -> list[str]:
    return [f"{_INDENT}{name} = {value[0]}", *value[1:]]


def _timers(source: MachineSource) -> list[str]:
    if not source.timers:
        return ["{}"]
    lines = ["{"]
    for event, period in source.timers:
        states = ", ".join(_q(state) for state in sorted(source.timer_states(event)))
        lines.append(f"{_INDENT * 2}{_q(event)}: ({period!r}, frozenset({{{states}}})),")
    lines.append(f"{_INDENT}}}")
    return lines


def _args(source: MachineSource, event: str) -> str:
    """The call arguments of an action or condition on ``event``: the event's fields, by name.

    The payload mapping holds plain objects; the typed event method that queued them is what
    guarantees their types, so each is cast back to its declared type here.
    """
    fields = source.payload(event)
    return "(" + ", ".join(f"{f.name}=cast({_q(f.type)}, payload[{_q(f.name)}])" for f in fields) + ")"


def _body(source: MachineSource, edge: Edge, indent: str) -> list[str]:
    lines = [f"{indent}self.state = {_q(edge.target)}"]
    lines.extend(f"{indent}self.{action}{_args(source, edge.event)}" for action in edge.actions)
    return lines


def _decide(source: MachineSource, event: str, tree: decision.Tree, indent: str) -> list[str]:
    """Statements for one decision tree: each condition is called once, where the tree asks it.

    A leaf edge says which diagram line it is, since its guard is no longer written out whole.
    Of the two answers the one leading to the earlier edge comes first, and an ``else: if`` is
    written ``elif``, so the code reads in the diagram's order wherever the guards allow.
    """
    if tree is None:
        return []
    if isinstance(tree, Edge):
        return [f"{indent}# {tree.source} --> {tree.target} : {tree.label}", *_body(source, tree, indent)]
    call = f"self.{tree.name}{_args(source, event)}"
    inner = indent + _INDENT
    if tree.if_true is None and tree.if_false is None:
        return [f"{indent}{call}"]  # the diagram's order asks it, though no edge depends on it
    if decision.first_line(tree.if_false) < decision.first_line(tree.if_true):
        test, first, second = f"not {call}", tree.if_false, tree.if_true
    else:
        test, first, second = call, tree.if_true, tree.if_false
    lines = [f"{indent}if {test}:", *_decide(source, event, first, inner)]  # ``first`` is never None: it sorts last
    if second is None:
        return lines
    rest = _decide(source, event, second, indent)
    if rest[0].startswith(f"{indent}if "):
        return [*lines, f"{indent}el{rest[0][len(indent) :]}", *rest[1:]]
    return [*lines, f"{indent}else:", *_decide(source, event, second, inner)]


def _dispatch(source: MachineSource) -> list[str]:
    by_state: dict[str, dict[str, list[Edge]]] = {}
    for edge in source.edges:
        by_state.setdefault(edge.source, {}).setdefault(edge.event, []).append(edge)
    lines = [
        f"{_INDENT}def A(self, event: str, payload: Payload) -> None:",
        f'{_INDENT * 2}"""Fire the first transition from the current state on ``event`` whose condition holds."""',
    ]
    if not by_state:
        return [*lines, f"{_INDENT * 2}return None"]
    i2, i3, i4 = (_INDENT * n for n in (2, 3, 4))
    for s_index, (state, events) in enumerate(by_state.items()):
        lines.append(f"{i2}{'if' if s_index == 0 else 'elif'} self.state == {_q(state)}:")
        for e_index, (event, edges) in enumerate(events.items()):
            lines.append(f"{i3}{'if' if e_index == 0 else 'elif'} event == {_q(event)}:")
            if len(edges) == 1 and edges[0].condition is None:
                lines.extend(_body(source, edges[0], i4))
                continue
            lines.extend(_decide(source, event, decision.build(edges), i4))  # an event with edges decides something
    return lines


def _payloads(source: MachineSource) -> list[str]:
    carrying = [(event, fields) for event, fields in source.payloads if fields]
    if not carrying:
        return ["{}"]
    lines = ["{"]
    for event, fields in carrying:
        names = ", ".join(_q(field.name) for field in fields) + ("," if len(fields) == 1 else "")
        lines.append(f"{_INDENT * 2}{_q(event)}: ({names}),")
    return [*lines, f"{_INDENT}}}"]


def _state_sets(entries: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    if not entries:
        return ["{}"]
    lines = ["{"]
    for event, states in entries:
        members = ", ".join(_q(state) for state in sorted(states))
        lines.append(f"{_INDENT * 2}{_q(event)}: frozenset({{{members}}}),")
    return [*lines, f"{_INDENT}}}"]


def _event_methods(source: MachineSource) -> list[str]:
    """One typed method per event a caller sends (timers and deadlines are sent by the clock)."""
    lines: list[str] = []
    for event in source.events:
        if event in source.timer_events or event in source.deadlines:
            continue
        fields = source.payload(event)
        params = ", *" + "".join(f", {field.name}: {field.type}" for field in fields) if fields else ""
        send = "".join(f", {field.name}={field.name}" for field in fields)
        lines += [
            "",
            f"{_INDENT}def {method_name(event)}(self{params}) -> None:",
            f'{_INDENT * 2}"""Send ``{event}``{" with its payload" if fields else ""}."""',
            f"{_INDENT * 2}self.automat({_q(event)}{send})",
        ]
    return lines


def _declarations(source: MachineSource) -> list[str]:
    """The action and condition signatures the dispatch calls, for the type checker only."""
    if not source.actions and not source.conditions:
        return []
    lines = [
        "",
        f"{_INDENT}if TYPE_CHECKING:",
        f"{_INDENT * 2}# Implemented by {source.module}.{source.class_name}; see {source.ref}.",
    ]
    for name in (*source.actions, *source.conditions):
        params = source.parameters(name)
        declared = "".join(f", {param.declaration()}" for param in params)
        returns = "None" if name.startswith("do_") else "bool"
        lines.append(f"{_INDENT * 2}def {name}(self{', *' if params else ''}{declared}) -> {returns}: ...")
    return lines


def _header_imports(source: MachineSource) -> list[str]:
    names = []
    if source.actions or source.conditions or source.imports:
        names.append("TYPE_CHECKING")
    if any(fields for _event, fields in source.payloads):
        names.append("cast")
    lines = ["from __future__ import annotations", ""]
    if names:
        lines += [f"from typing import {', '.join(names)}", ""]
    lines += ["from bitdust.automats.runtime import Automat, Payload"]
    if source.imports:
        lines += ["", "if TYPE_CHECKING:", *(f"{_INDENT}{statement}" for statement in source.imports)]
    return lines


def generate(source: MachineSource) -> str:
    """The text of the generated module for ``source``; a pure function of the source."""
    edge_states = [(event, source.edge_states(event)) for event in source.events]
    ignored = [(event, source.ignored_states(event)) for event in source.events if source.ignored_states(event)]
    lines = [
        f"# generated from {source.ref} — do not edit; run `make automats`",
        f'"""State machine ``{source.name}``: constants, event methods and dispatch generated from {source.ref}.',
        "",
        f"The hand-written ``{source.module}.{source.class_name}`` subclasses this class and implements",
        "every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the",
        "keyword-only parameters declared below for the type checker.",
        '"""',
        "",
        *_header_imports(source),
        "",
        "",
        f"class {source.generated_class}(Automat):",
        *_assign("NAME", [_q(source.name)]),
        *_assign("SOURCE", [_q(source.ref)]),
        *_assign("STATES", _tuple(source.states, _INDENT)),
        *_assign("EVENTS", _frozenset(source.events, _INDENT)),
        *_assign("INITIAL_STATE", [_q(source.initial_state)]),
        *_assign("FINAL_STATES", _frozenset(source.final_states, _INDENT)),
        *_assign("FAILURE_STATE", [_q(source.failure_state) if source.failure_state else "None"]),
        *_assign("TIMERS", _timers(source)),
        *_assign("ACTIONS", _tuple(source.actions, _INDENT)),
        *_assign("CONDITIONS", _tuple(source.conditions, _INDENT)),
        *_assign("PAYLOADS", _payloads(source)),
        *_assign("EDGE_STATES", _state_sets(edge_states)),
        *_assign("IGNORED", _state_sets(ignored)),
        *_assign("DEADLINES", _frozenset(source.deadlines, _INDENT)),
        *_event_methods(source),
        *_declarations(source),
        "",
        *_dispatch(source),
    ]
    return "\n".join(lines) + "\n"


def generated_path(source: MachineSource, root: str | Path) -> Path:
    """Where the generated module goes: next to the hand-written module, under ``root``."""
    parts = source.generated_module.split(".")
    return Path(root).joinpath(*parts[:-1], parts[-1] + ".py")


def flat_path(source: MachineSource, out: str | Path) -> Path:
    """Where ``--out`` puts it: flat, named by the full dotted module so names cannot collide."""
    return Path(out) / f"{source.generated_module}.py"


def _targets(sources_dir: str | Path, root: str | Path, out: str | Path | None) -> list[tuple[Path, str]]:
    if not Path(sources_dir).is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such sources directory", str(sources_dir))
    sources = [parse_source(path) for path in source_files(sources_dir)]
    seen: dict[str, MachineSource] = {}
    targets = []
    for source in sources:
        other = seen.get(source.module)
        if other is not None:
            raise AutomatSourceError(source.path, 1, f"module {source.module} is also the target of {other.path}")
        seen[source.module] = source
        path = flat_path(source, out) if out is not None else generated_path(source, root)
        targets.append((path, generate(source)))
    return targets


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def generate_all(sources_dir: str | Path, root: str | Path, *, out: str | Path | None = None) -> list[Path]:
    """Generate every source of ``sources_dir``; return the generated paths.

    A file whose text is already right is left alone, so its timestamp keeps meaning something.
    All sources are parsed before anything is written: one bad source changes nothing.
    """
    targets = _targets(sources_dir, root, out)
    for path, text in targets:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            _write_atomically(path, text)
    return [path for path, _text in targets]


def check_all(sources_dir: str | Path, root: str | Path, *, out: str | Path | None = None) -> list[str]:
    """List generated files that are missing or differ from their source, as ``path: reason``."""
    problems = []
    for path, text in _targets(sources_dir, root, out):
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: stale")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bitdust.automats.generator",
        description="Generate <module>_machine.py files from the state machine sources.",
    )
    parser.add_argument("--sources", default="automats", help="directory of <name>.md sources (default: automats)")
    parser.add_argument("--root", default=".", help="directory the module paths are relative to (default: .)")
    parser.add_argument("--out", default=None, help="write every generated file flat into this directory instead")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale or missing")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check_all(args.sources, args.root, out=args.out)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("run `make automats` to regenerate", file=sys.stderr)
                return 1
            return 0
        for path in generate_all(args.sources, args.root, out=args.out):
            print(path)
    except AutomatSourceError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{exc.filename or args.sources}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
