from __future__ import annotations

import ast
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from twisted.internet import task

from bitdust.automats import conditions, generator
from bitdust.automats.errors import AutomatSourceError
from bitdust.automats.generator import check_all, flat_path, generate, generate_all, generated_path, parse_source
from bitdust.automats.source import MachineSource
from tests.automats.helpers import SOURCES, load_generated, recording_class

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A sources directory with the two fixture machines."""
    directory = tmp_path / "automats"
    directory.mkdir()
    for name in ("gate.md", "initializer.md"):
        shutil.copy(SOURCES / name, directory / name)
    return directory


def test_generated_text_header_and_constants() -> None:
    text = generate(parse_source(SOURCES / "initializer.md"))
    lines = text.splitlines()
    assert lines[0] == "# generated from automats/initializer.md — do not edit; run `make automats`"
    assert "from __future__ import annotations" in lines
    assert "from bitdust.automats.runtime import Automat, Payload" in lines
    assert "class InitializerMachine(Automat):" in lines
    assert '    FAILURE_STATE = "FAILED"' in lines
    # Actions and conditions are declared for the type checker only: a missing method must show.
    runtime_part, declarations = text.split("    if TYPE_CHECKING:\n", 1)
    assert "def do_" not in runtime_part and "def is_" not in runtime_part
    assert "        def do_report_failure(self) -> None: ..." in declarations
    assert "        def is_ok(self) -> bool: ..." in declarations
    ast.parse(text)


def test_generated_class_constants(tmp_path: Path) -> None:
    machine = load_generated(SOURCES / "initializer.md", tmp_path)
    assert machine.__name__ == "InitializerMachine"
    assert machine.NAME == "initializer"
    assert machine.SOURCE == "automats/initializer.md"
    assert machine.STATES == ("AT_STARTUP", "LOCAL", "SERVICES", "FAILED")
    assert machine.EVENTS == frozenset({"run", "init-local-done", "init-local-failed", "timer-10sec"})
    assert machine.INITIAL_STATE == "AT_STARTUP"
    assert machine.FINAL_STATES == frozenset({"FAILED"})
    assert machine.FAILURE_STATE == "FAILED"
    assert machine.TIMERS == {"timer-10sec": (10.0, frozenset({"SERVICES"}))}
    assert machine.ACTIONS == ("do_init_local", "do_start_services", "do_send_event", "do_report_failure", "do_check")
    assert machine.CONDITIONS == ("is_ok", "is_stopping")
    assert not hasattr(machine, "do_init_local")


def test_no_failure_state_and_no_timers(tmp_path: Path) -> None:
    path = tmp_path / "tiny.md"
    path.write_text("---\nname: tiny\nmodule: t.tiny\nclass: Tiny\n---\n```mermaid\nstateDiagram-v2\n[*] --> A\n```\n")
    machine = load_generated(path, tmp_path)
    assert machine.FAILURE_STATE is None and machine.TIMERS == {} and machine.EVENTS == frozenset()
    assert machine.ACTIONS == () and machine.CONDITIONS == ()


def test_generation_is_deterministic(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "gate.md"
    copy.parent.mkdir()
    shutil.copy(SOURCES / "gate.md", copy)
    first = generate(parse_source(SOURCES / "gate.md"))
    assert generate(parse_source(SOURCES / "gate.md")) == first
    assert generate(parse_source(copy)) == first  # the path of the source does not leak in


def test_paths() -> None:
    source = parse_source(SOURCES / "initializer.md")
    assert generated_path(source, "/repo") == Path("/repo/bitdust/main/lifecycle/initializer_machine.py")
    assert flat_path(source, "/out") == Path("/out/bitdust.main.lifecycle.initializer_machine.py")


def test_generate_all_and_check_all(sources: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert sorted(check_all(sources, root)) == [
        f"{root}/bitdust/main/lifecycle/initializer_machine.py: missing",
        f"{root}/tests/automats/gate_machine.py: missing",
    ]
    paths = generate_all(sources, root)
    assert paths == [root / "tests/automats/gate_machine.py", root / "bitdust/main/lifecycle/initializer_machine.py"]
    assert check_all(sources, root) == []
    stale = paths[0]
    stale.write_text(stale.read_text() + "# edited by hand\n")
    assert check_all(sources, root) == [f"{stale}: stale"]
    generate_all(sources, root)
    assert check_all(sources, root) == []


def test_generate_all_leaves_fresh_files_alone(sources: Path, tmp_path: Path) -> None:
    paths = generate_all(sources, tmp_path)
    os.utime(paths[0], ns=(1_000_000_000, 1_000_000_000))
    generate_all(sources, tmp_path)
    assert paths[0].stat().st_mtime_ns == 1_000_000_000
    assert not list(paths[0].parent.glob(".*.tmp"))


def test_out_writes_flat(sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = generate_all(sources, tmp_path / "unused", out=out)
    assert sorted(p.name for p in paths) == [
        "bitdust.main.lifecycle.initializer_machine.py",
        "tests.automats.gate_machine.py",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert not (tmp_path / "unused").exists()
    assert check_all(sources, tmp_path / "unused", out=out) == []


def test_one_bad_source_writes_nothing(sources: Path, tmp_path: Path) -> None:
    (sources / "zz_bad.md").write_text("no front matter\n")
    with pytest.raises(AutomatSourceError):
        generate_all(sources, tmp_path / "root")
    assert not (tmp_path / "root").exists()


def test_two_sources_for_one_module(sources: Path, tmp_path: Path) -> None:
    text = (sources / "gate.md").read_text().replace("name: gate", "name: gate2")
    (sources / "gate2.md").write_text(text)
    with pytest.raises(AutomatSourceError, match=r"gate2\.md:1: module tests\.automats\.gate is also the target"):
        generate_all(sources, tmp_path)


def test_cli_generate_and_check(sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    assert generator.main(["--sources", str(sources), "--root", str(root), "--check"]) == 1
    err = capsys.readouterr().err
    assert "initializer_machine.py: missing" in err and "make automats" in err
    assert not root.exists()
    assert generator.main(["--sources", str(sources), "--root", str(root)]) == 0
    assert "initializer_machine.py" in capsys.readouterr().out
    assert generator.main(["--sources", str(sources), "--root", str(root), "--check"]) == 0
    gate = root / "tests/automats/gate_machine.py"
    gate.write_text("stale\n")
    assert generator.main(["--sources", str(sources), "--root", str(root), "--check"]) == 1
    assert f"{gate}: stale" in capsys.readouterr().err
    assert gate.read_text() == "stale\n"  # --check writes nothing


def test_cli_bad_source_exits_2(sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = sources / "initializer.md"
    bad.write_text(bad.read_text().replace("run / do_init_local", "run / init_local"))
    for extra in ([], ["--check"]):
        assert generator.main(["--sources", str(sources), "--root", str(tmp_path), *extra]) == 2
        assert capsys.readouterr().err.startswith(f"{bad}:17: bad action name 'init_local'")


def test_cli_missing_sources_dir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generator.main(["--sources", str(tmp_path / "nope"), "--root", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err


def test_runs_as_a_module(sources: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "bitdust.automats.generator", "--sources", str(sources), "--root", "."]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bitdust/main/lifecycle/initializer_machine.py").is_file()
    result = subprocess.run([*command, "--check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# Three edges whose guards share conditions: an if/elif over whole guards calls is_a three times
# and is_b twice to reach the last edge.
_SHARED_GUARDS = """---
name: shared
module: t.shared
class: Shared
---
```mermaid
stateDiagram-v2
[*] --> A
A --> B : go [is_a] / do_first
A --> C : go [!is_a && is_b] / do_second
A --> D : go [!is_a && !is_b] / do_third
```
"""


@pytest.mark.parametrize(
    ("answers", "target", "asked"),
    [
        ({"is_a": True}, "B", ["is_a"]),
        ({"is_b": True}, "C", ["is_a", "is_b"]),
        ({}, "D", ["is_a", "is_b"]),
    ],
)
def test_each_condition_is_called_once_per_dispatch(
    tmp_path: Path, answers: dict[str, bool], target: str, asked: list[str]
) -> None:
    path = tmp_path / "shared.md"
    path.write_text(_SHARED_GUARDS)
    machine = recording_class(load_generated(path, tmp_path))(answers=answers, clock=task.Clock())
    machine.A("go", {})
    assert (machine.state, machine.asked) == (target, asked)


def _first_match(source: MachineSource, state: str, event: str, answers: dict[str, bool]) -> tuple[str, list[str]]:
    """The diagram's rule, evaluated here: the first edge whose guard holds, and the conditions asked."""
    asked: list[str] = []

    def value(name: str) -> bool:
        if name not in asked:
            asked.append(name)
        return answers[name]

    for edge in source.edges:
        if edge.source == state and edge.event == event:
            if edge.condition is None or conditions.evaluate(edge.condition, value):
                return edge.target, asked
    return state, asked


# Guards no real machine has yet: ones that never hold (their condition is still called, once), an
# `||` whose second operand repeats the first's, and an unguarded edge last.
_ODD_GUARDS = """---
name: odd
module: t.odd
class: Odd
---
```mermaid
stateDiagram-v2
[*] --> A
A --> B : go [is_a && !is_a] / do_never
A --> C : go [is_b || is_a && is_c] / do_either
A --> D : go [!is_c] / do_third
A --> A : go / do_otherwise
B --> A : back [!(is_a || is_b) && is_c]
B --> C : stop [is_c && !is_c] / do_never
```
"""


def _all_sources() -> list[Path]:
    return [SOURCES / "gate.md", *sorted((REPO / "automats").glob("*.md")), Path("odd.md")]


@pytest.mark.parametrize("path", _all_sources(), ids=lambda path: path.name)
def test_dispatch_takes_the_first_edge_whose_guard_holds_asking_each_condition_once(tmp_path: Path, path: Path) -> None:
    """Every guarded state and event of every machine, under every answer of its conditions."""
    if not path.is_absolute():  # the odd guards above
        path = tmp_path / path
        path.write_text(_ODD_GUARDS)
    source = generator.parse_source(path)
    machine_class = recording_class(load_generated(path, tmp_path))
    for state, event in dict.fromkeys((edge.source, edge.event) for edge in source.edges if edge.condition):
        names = sorted(
            {
                name
                for edge in source.edges
                if edge.source == state and edge.event == event and edge.condition is not None
                for name in conditions.names(edge.condition)
            }
        )
        for values in itertools.product((False, True), repeat=len(names)):
            answers = dict(zip(names, values, strict=True))
            machine = machine_class(answers=answers, clock=task.Clock())
            machine.state = state
            machine.A(event, {field.name: None for field in source.payload(event)})
            assert (machine.state, machine.asked) == _first_match(source, state, event, answers), (
                state,
                event,
                answers,
            )


_PAYLOADS = """---
name: courier
module: t.courier
class: Courier
deadlines: [late]
imports:
  - from bitdust.p2p.packet import Packet
events:
  deliver: {packet: Packet, hops: int}
  refuse: {packet: Packet}
ignore:
  DONE: [deliver, refuse]
---
```mermaid
stateDiagram-v2
[*] --> WAIT
WAIT --> DONE : deliver [is_near] / do_hand_over
WAIT --> WAIT : deliver / do_forward
WAIT --> DONE : refuse / do_hand_over
WAIT --> DONE : late
```
"""


def test_payloads_become_typed_event_methods_declarations_and_casts(tmp_path: Path) -> None:
    path = tmp_path / "courier.md"
    path.write_text(_PAYLOADS)
    text = generate(parse_source(path))
    lines = text.splitlines()
    assert "from typing import TYPE_CHECKING, cast" in lines
    assert lines[lines.index("if TYPE_CHECKING:") + 1] == "    from bitdust.p2p.packet import Packet"
    assert "    def deliver(self, *, packet: Packet, hops: int) -> None:" in lines
    assert '        self.automat("deliver", packet=packet, hops=hops)' in lines
    assert "    def late(self) -> None:" not in lines  # a deadline is sent by the clock
    # do_hand_over runs on deliver and refuse: packet both carry, hops only deliver
    assert "        def do_hand_over(self, *, packet: Packet, hops: int | None = None) -> None: ..." in lines
    assert "        def is_near(self, *, packet: Packet, hops: int) -> bool: ..." in lines
    assert '                self.do_hand_over(packet=cast("Packet", payload["packet"]))' in lines
    assert "    PAYLOADS = {" in lines and '        "deliver": ("packet", "hops"),' in lines
    assert '        "deliver": frozenset({"DONE"}),' in lines  # IGNORED
    machine = recording_class(load_generated(path, tmp_path))(clock=task.Clock(), answers={"is_near": True})
    machine.deliver(packet="p", hops=2)
    assert machine.state == "DONE"
    assert machine.call_args == [("do_hand_over", (), {"packet": "p", "hops": 2})]
    machine.refuse(packet="late")  # ignored in DONE
    assert machine.state == "DONE" and machine.calls == ["do_hand_over"]
