from __future__ import annotations

from pathlib import Path

import pytest

from bitdust.automats.conditions import And, Name, Not
from bitdust.automats.errors import AutomatSourceError
from bitdust.automats.source import parse_source, parse_text, source_files
from bitdust.main.errors import BitDustError
from tests.automats.helpers import SOURCES


def test_parse_the_documented_example() -> None:
    source = parse_source(SOURCES / "initializer.md")
    assert source.name == "initializer"
    assert source.module == "bitdust.main.lifecycle.initializer"
    assert source.class_name == "Initializer"
    assert source.generated_module == "bitdust.main.lifecycle.initializer_machine"
    assert source.generated_class == "InitializerMachine"
    assert source.ref == "automats/initializer.md"
    assert source.failure_state == "FAILED"
    assert source.timers == (("timer-10sec", 10.0),)
    assert source.initial_state == "AT_STARTUP"
    assert source.states == ("AT_STARTUP", "LOCAL", "SERVICES", "FAILED")
    assert source.final_states == ("FAILED",)
    assert source.events == ("run", "init-local-done", "init-local-failed", "timer-10sec")
    assert source.actions == ("do_init_local", "do_start_services", "do_send_event", "do_report_failure", "do_check")
    assert source.conditions == ("is_ok", "is_stopping")
    assert source.timer_states("timer-10sec") == ("SERVICES",)
    edge = source.edges[1]
    assert (edge.source, edge.target, edge.event) == ("LOCAL", "SERVICES", "init-local-done")
    assert edge.condition == And((Name("is_ok"), Not(Name("is_stopping"))))
    assert edge.actions == ("do_start_services", "do_send_event")
    assert edge.line == 18
    assert edge.label == "init-local-done [is_ok && !is_stopping] / do_start_services, do_send_event"


def test_parse_gate_ignores_decorations() -> None:
    source = parse_source(SOURCES / "gate.md")
    assert source.initial_state == "CLOSED"
    assert set(source.states) == {"CLOSED", "OPENING", "OPEN", "CLOSING", "LOCKED", "BROKEN", "GONE"}
    assert len(source.edges) == 17
    assert source.timers == (("timer-500ms", 0.5), ("timer-2sec", 2.0))
    assert source.timer_states("timer-2sec") == ("OPEN", "CLOSING")
    repair = [edge for edge in source.edges if edge.event == "repair"][0]
    assert repair.actions == () and repair.condition is None and repair.label == "repair"


def test_source_files_sorted(tmp_path: Path) -> None:
    for name in ("b.md", "a.md", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [path.name for path in source_files(tmp_path)] == ["a.md", "b.md"]


FRONT = ["---", "name: m", "module: pkg.m", "class: M", "---", "# M", "", "```mermaid", "stateDiagram-v2"]
EDGES = ["    [*] --> IDLE", "    IDLE --> BUSY : go / do_work", "    BUSY --> IDLE : done"]


def _text(front: list[str] | None = None, edges: list[str] | None = None, tail: list[str] | None = None) -> str:
    lines = (FRONT if front is None else front) + (EDGES if edges is None else edges) + ["```"] + (tail or [])
    return "\n".join(lines) + "\n"


def _front(*extra: str, drop: str | None = None) -> list[str]:
    keys = [line for line in FRONT[1:4] if drop is None or not line.startswith(drop)]
    return ["---", *keys, *extra, *FRONT[4:]]


def test_minimal_source_parses(tmp_path: Path) -> None:
    source = parse_text(_text(), tmp_path / "m.md")
    assert source.states == ("IDLE", "BUSY")
    assert source.failure_state is None and source.timers == () and source.final_states == ()


def test_accepted_variants(tmp_path: Path) -> None:
    front = _front("failure_state: BUSY   # trailing comment", "# a comment line", "", "timers:", "    timer-1min: 60")
    edges = [
        "    %% comment",
        "",
        "    direction TB",
        "    note left of IDLE",
        "        free text, even --> arrows",
        "    end note",
        "    [*]-->IDLE",
        "    IDLE-->BUSY:go[is_a&&(is_b||!is_c)]/do_x,do_y",
        "    BUSY --> BUSY : timer-1min",
        "    BUSY --> [*]",
    ]
    source = parse_text(_text(front, edges), tmp_path / "m.md")
    assert source.failure_state == "BUSY"
    assert source.timers == (("timer-1min", 60.0),)
    assert source.edges[0].actions == ("do_x", "do_y")
    assert source.final_states == ("BUSY",)


@pytest.mark.parametrize(
    ("name", "period"),
    [
        ("timer-500ms", "0.5"),
        ("timer-10sec", "10"),
        ("timer-2sec", "2.0"),
        ("timer-1min", "60"),
        ("timer-1hour", "3600"),
    ],
)
def test_timer_names_agree_with_periods(tmp_path: Path, name: str, period: str) -> None:
    text = _text(_front("timers:", f"  {name}: {period}"), [*EDGES, f"    IDLE --> IDLE : {name}"])
    assert parse_text(text, tmp_path / "m.md").timers == ((name, float(period)),)


MALFORMED = [
    ("empty", "", 1, "no front matter"),
    ("no front matter", "# M\n```mermaid\nstateDiagram-v2\n[*] --> A\n```\n", 1, "no front matter"),
    ("unclosed front matter", "---\nname: m\n", 1, "front matter is not closed"),
    ("missing name", _text(_front(drop="name")), 1, "misses the required key 'name'"),
    ("missing module", _text(_front(drop="module")), 1, "misses the required key 'module'"),
    ("missing class", _text(_front(drop="class")), 1, "misses the required key 'class'"),
    ("unknown key", _text(_front("colour: red")), 5, "unknown front matter key 'colour'"),
    ("duplicate key", _text(_front("name: m")), 5, "duplicate front matter key 'name'"),
    ("not key value", _text(_front("just words")), 5, "expected 'key: value'"),
    ("empty value", _text(_front("failure_state:")), 5, "has no value"),
    ("bad module", _text(["---", "name: m", "module: Pkg/m", "class: M", *FRONT[4:]]), 3, "bad module"),
    ("bad class", _text(["---", "name: m", "module: pkg.m", "class: my_class", *FRONT[4:]]), 4, "bad class"),
    ("bad name", _text(["---", "name: M!", "module: pkg.m", "class: M", *FRONT[4:]]), 2, "bad name"),
    ("name not file", _text(["---", "name: other", "module: pkg.m", "class: M", *FRONT[4:]]), 2, "must match the file"),
    ("stray indent", _text(_front("  timer-1sec: 1")), 5, "unexpected indented line"),
    ("timers inline", _text(_front("timers: 5")), 5, "'timers:' takes indented"),
    ("bad failure", _text(_front("failure_state: broken")), 5, "bad failure_state"),
    ("failure not a state", _text(_front("failure_state: NOPE")), 5, "failure_state NOPE is not a state"),
    ("bad timer name", _text(_front("timers:", "  timer-soon: 1")), 6, "bad timer name 'timer-soon'"),
    ("timer unit", _text(_front("timers:", "  timer-10s: 10")), 6, "bad timer name"),
    ("timer mismatch", _text(_front("timers:", "  timer-10sec: 5")), 6, "must fire every 10 s, not every 5 s"),
    ("timer ms mismatch", _text(_front("timers:", "  timer-500ms: 5")), 6, "must fire every 0.5 s"),
    ("timer not number", _text(_front("timers:", "  timer-1sec: one")), 6, "positive number of seconds"),
    ("timer zero", _text(_front("timers:", "  timer-0sec: 0")), 6, "positive number of seconds"),
    ("timer twice", _text(_front("timers:", "  timer-1sec: 1", "  timer-1sec: 1")), 7, "declared twice"),
    ("timer unused", _text(_front("timers:", "  timer-1sec: 1")), 6, "no transition uses it"),
    ("undeclared timer", _text(edges=[*EDGES, "    BUSY --> IDLE : timer-5sec"]), 13, "timer event timer-5sec is not"),
    ("no mermaid", "\n".join([*FRONT[:6], "prose only"]) + "\n", 6, "no ```mermaid block"),
    ("two mermaid", _text(tail=["```mermaid", "stateDiagram-v2", "```"]), 14, "a second mermaid block"),
    ("unclosed block", "\n".join([*FRONT, *EDGES]) + "\n", 8, "code block is not closed"),
    ("not state diagram", _text([*FRONT[:8], "flowchart LR"]), 9, "must start with 'stateDiagram-v2'"),
    ("old state diagram", _text([*FRONT[:8], "stateDiagram"]), 9, "must start with 'stateDiagram-v2'"),
    ("empty block", _text(FRONT[:8], []), 8, "must start with 'stateDiagram-v2'"),
    ("no initial", _text(edges=EDGES[1:]), 8, "no initial state"),
    ("two initial", _text(edges=[*EDGES, "    [*] --> BUSY"]), 13, "a second initial state (the first is at line 10)"),
    ("labelled initial", _text(edges=["    [*] --> IDLE : go", *EDGES[1:]]), 10, "takes no label"),
    ("labelled final", _text(edges=[*EDGES, "    BUSY --> [*] : stop"]), 13, "takes no label"),
    ("marker to marker", _text(edges=[*EDGES, "    [*] --> [*]"]), 13, "'[*] --> [*]' is not a transition"),
    ("bad marker", _text(edges=[*EDGES, "    [x] --> IDLE : go"]), 13, "bad state name '[x]'"),
    ("lower state", _text(edges=[*EDGES, "    idle --> BUSY : go"]), 13, "bad state name 'idle'"),
    ("punctuated state", _text(edges=[*EDGES, "    IDLE --> BUSY? : go"]), 13, "bad state name 'BUSY?'"),
    ("no label", _text(edges=[*EDGES, "    IDLE --> BUSY"]), 13, "has no label with an event"),
    ("blank label", _text(edges=[*EDGES, "    IDLE --> BUSY :  "]), 13, "has no label with an event"),
    ("snake event", _text(edges=[*EDGES, "    IDLE --> BUSY : go_now"]), 13, "bad event name 'go_now'"),
    ("upper event", _text(edges=[*EDGES, "    IDLE --> BUSY : Go"]), 13, "bad event name 'Go'"),
    ("two conditions", _text(edges=[*EDGES, "    IDLE --> BUSY : go [is_a] [is_b]"]), 13, "bad label"),
    ("words", _text(edges=[*EDGES, "    IDLE --> BUSY : go now"]), 13, "bad label"),
    ("empty condition", _text(edges=[*EDGES, "    IDLE --> BUSY : go [] / do_x"]), 13, "empty condition"),
    ("bad condition", _text(edges=[*EDGES, "    IDLE --> BUSY : go [ok]"]), 13, "bad condition name 'ok'"),
    ("unbalanced", _text(edges=[*EDGES, "    IDLE --> BUSY : go [(is_a]"]), 13, "unbalanced parentheses"),
    ("unbalanced 2", _text(edges=[*EDGES, "    IDLE --> BUSY : go [is_a)]"]), 13, "unbalanced parentheses"),
    ("single amp", _text(edges=[*EDGES, "    IDLE --> BUSY : go [is_a & is_b]"]), 13, "unexpected character '&'"),
    ("bad action", _text(edges=[*EDGES, "    IDLE --> BUSY : go / work"]), 13, "bad action name 'work'"),
    ("empty action", _text(edges=[*EDGES, "    IDLE --> BUSY : go / do_x,"]), 13, "empty action"),
    ("slash only", _text(edges=[*EDGES, "    IDLE --> BUSY : go /"]), 13, "empty action"),
    ("shadowed", _text(edges=[*EDGES, "    IDLE --> IDLE : go [is_a]"]), 13, "can never fire"),
    ("composite state", _text(edges=[*EDGES, "    state BUSY {"]), 13, "only 'state NAME : description'"),
    ("bad description", _text(edges=[*EDGES, "    state busy : working"]), 13, "bad state name 'busy'"),
    ("fork", _text(edges=[*EDGES, "    state F <<fork>>"]), 13, "only 'state NAME : description'"),
    ("unsupported", _text(edges=[*EDGES, "    classDef hot fill:red"]), 13, "unsupported line"),
    ("other arrow", _text(edges=[*EDGES, "    IDLE -> BUSY : go"]), 13, "unsupported line"),
    ("unclosed note", _text(edges=[*EDGES, "    note right of IDLE", "    text"]), 14, "not closed by 'end note'"),
    # payloads, imports, the ignore policy and deadlines
    ("payload not braced", _text(_front("events:", "  go: packet: Packet")), 6, "is written {name: Type, ...}"),
    ("payload no type", _text(_front("events:", "  go: {packet}")), 6, "needs a type"),
    ("payload bad name", _text(_front("events:", "  go: {Packet: Packet}")), 6, "bad payload field name 'Packet'"),
    ("payload keyword", _text(_front("events:", "  go: {from: str}")), 6, "bad payload field name 'from'"),
    ("payload bad type", _text(_front("events:", "  go: {n: int +}")), 6, "not a Python type expression"),
    ("payload twice", _text(_front("events:", "  go: {n: int, n: str}")), 6, "payload field n is given twice"),
    ("payload unknown event", _text(_front("events:", "  stop: {n: int}")), 6, "names 'stop', which no transition"),
    ("payload given twice", _text(_front("events:", "  go: {}", "  go: {}")), 7, "payload of go is given twice"),
    ("events inline", _text(_front("events: go")), 5, "'events:' takes indented"),
    ("import not a list item", _text(_front("imports:", "  from x import Y")), 6, "an 'imports:' entry is"),
    ("import not an import", _text(_front("imports:", "  - print(1)")), 6, "an import is one"),
    ("ignore unknown state", _text(_front("ignore:", "  NOPE: [go]")), 6, "'NOPE', which is not a state"),
    ("ignore unknown event", _text(_front("ignore:", "  BUSY: [stop]")), 6, "names 'stop', not an event here"),
    ("ignore with an edge", _text(_front("ignore:", "  IDLE: [go]")), 6, "IDLE has a transition on go"),
    ("ignore not a list", _text(_front("ignore:", "  BUSY: go")), 6, "an ignore list is written [event, ...]"),
    ("ignore twice", _text(_front("ignore:", "  BUSY: [go, go]")), 6, "names an event twice"),
    (
        "ignore state twice",
        _text(_front("ignore:", "  BUSY: [go]", "  BUSY: [go]")),
        7,
        "ignore list of BUSY is given twice",
    ),
    ("deadline unknown", _text(_front("deadlines: [stop]")), 5, "deadline 'stop' is not"),
    ("deadline not a list", _text(_front("deadlines: go")), 5, "bad deadlines 'go'"),
    ("deadline payload", _text(_front("deadlines: [go]", "events:", "  go: {n: int}")), 5, "no payload"),
    ("event hides attribute", _text(_front(), [*EDGES, "    BUSY --> IDLE : destroy"]), 1, "destroy() would hide"),
    (
        "field types disagree",
        _text(_front("events:", "  go: {n: int}", "  done: {n: str}"), [*EDGES, "    IDLE --> IDLE : done / do_work"]),
        5,
        "do_work: field n is int in one event and str in done",
    ),
]


@pytest.mark.parametrize(("text", "line", "reason"), [case[1:] for case in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_sources(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "m.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AutomatSourceError) as info:
        parse_source(path)
    error = info.value
    assert str(error).startswith(f"{path}:{line}: "), str(error)
    assert reason in error.reason, str(error)
    assert (error.path, error.line) == (str(path), line)
    assert isinstance(error, BitDustError)


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        parse_source(tmp_path / "none.md")


PAYLOAD_FRONT = _front(
    "imports:",
    "  - from bitdust.p2p.packet import Packet",
    "events:",
    "  go: {packet: Packet, hops: dict[str, int]}",
    "  done: {packet: Packet}",
    "deadlines: [again]",
    "ignore:",
    "  BUSY: [go]",
    "  '*': [again]",
)
PAYLOAD_EDGES = [*EDGES, "    BUSY --> BUSY : again / do_work", "    BUSY --> IDLE : go [is_a] / do_work"]


def test_payloads_imports_ignore_and_deadlines_parse(tmp_path: Path) -> None:
    front = [line for line in PAYLOAD_FRONT if line != "  BUSY: [go]"]
    source = parse_text(_text(front, PAYLOAD_EDGES), tmp_path / "m.md")
    assert source.imports == ("from bitdust.p2p.packet import Packet",)
    assert [f.name for f in source.payload("go")] == ["packet", "hops"]
    assert source.payload("go")[1].type == "dict[str, int]"
    assert source.payload("again") == ()
    assert source.deadlines == ("again",)
    # '*' stands for every state without a transition on the event
    assert source.ignored_states("again") == ("IDLE",)
    # do_work runs on go (packet, hops), done (nothing) and again (nothing)
    params = {p.name: (p.type, p.required) for p in source.parameters("do_work")}
    assert params == {"packet": ("Packet", False), "hops": ("dict[str, int]", False)}
    assert [(p.name, p.required) for p in source.parameters("is_a")] == [("packet", True), ("hops", True)]


def test_ignore_names_a_state_and_its_events(tmp_path: Path) -> None:
    source = parse_text(_text(PAYLOAD_FRONT, [*EDGES, "    BUSY --> BUSY : again"]), tmp_path / "m.md")
    assert source.ignored_states("go") == ("BUSY",)
    assert source.ignored_states("done") == ()
