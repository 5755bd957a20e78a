"""The edge-coverage report: the runtime's transition hook, 'untestable:' in the front matter,
the split into taken and untaken edges, and the pytest plugin that fails a whole unit run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from twisted.internet import task

from bitdust.automats import edge_coverage, runtime
from bitdust.automats.errors import AutomatSourceError
from bitdust.automats.runtime import Automat, Payload, Transition
from bitdust.automats.source import parse_text
from tests.automats.edge_plugin import unit_modules

pytest_plugins = ["pytester"]

TOY = """\
---
name: toy
module: toy
class: Toy
failure_state: BROKEN
{extra}---
```mermaid
stateDiagram-v2
    [*] --> IDLE
    IDLE --> BUSY : go / do_work
    BUSY --> IDLE : done
    BUSY --> BROKEN : crash
```
"""

TOY_TEST = """
from twisted.internet import task
from bitdust.automats.runtime import Automat


class Toy(Automat):
    NAME = "toy"
    SOURCE = "automats/toy.md"
    STATES = ("IDLE", "BUSY", "BROKEN")
    EVENTS = frozenset({"go", "done", "crash"})
    INITIAL_STATE = "IDLE"
    FAILURE_STATE = "BROKEN"

    def A(self, event, *args, **kwargs):
        if self.state == "IDLE" and event == "go":
            self.state = "BUSY"
        elif self.state == "BUSY" and event == "done":
            self.state = "IDLE"
        elif self.state == "BUSY" and event == "crash":
            self.state = "BROKEN"


def test_go_and_done():
    toy = Toy(clock=task.Clock())
    toy.automat("go")
    toy.automat("done")
"""


def toy(extra: str = "") -> str:
    return TOY.format(extra=textwrap.dedent(extra))


class Toy(Automat):
    """A hand-written dispatch of ``TOY``, to see what the runtime tells its observers."""

    NAME = "toy"
    SOURCE = "automats/toy.md"
    STATES = ("IDLE", "BUSY", "BROKEN")
    EVENTS = frozenset({"go", "done", "crash"})
    INITIAL_STATE = "IDLE"
    FAILURE_STATE = "BROKEN"
    PAYLOADS = {"go": ("how",)}

    def A(self, event: str, payload: Payload) -> None:
        if self.state == "IDLE" and event == "go":
            self.state = "BUSY"
            if payload["how"] == "raise":
                raise RuntimeError("the action broke")
        elif self.state == "BUSY" and event == "done":
            self.state = "IDLE"


@pytest.fixture
def seen() -> list[tuple[str, Transition, bool]]:
    box: list[tuple[str, Transition, bool]] = []

    def observer(automat: Automat, transition: Transition, failed: bool) -> None:
        box.append((automat.SOURCE, transition, failed))

    runtime.add_transition_observer(observer)
    yield box
    runtime.remove_transition_observer(observer)


# -- the runtime hook --------------------------------------------------------------------------


def test_observers_see_every_processed_event(seen: list) -> None:
    machine = Toy(clock=task.Clock())
    machine.automat("go", how="work")
    machine.automat("crash")  # no edge from BUSY on crash in this dispatch: processed, state kept
    machine.automat("done")
    assert [(t.from_state, t.event, t.to_state, failed) for _s, t, failed in seen] == [
        ("IDLE", "go", "BUSY", False),
        ("BUSY", "crash", "BUSY", False),
        ("BUSY", "done", "IDLE", False),
    ]
    assert {source for source, _t, _f in seen} == {"automats/toy.md"}


def test_an_event_whose_action_raises_is_reported_failed(seen: list) -> None:
    machine = Toy(clock=task.Clock(), log=None)
    machine.automat("go", how="raise")
    assert machine.state == "BROKEN"
    [(_source, transition, failed)] = seen
    assert (transition.from_state, transition.to_state, failed) == ("IDLE", "BROKEN", True)


def test_a_failed_event_takes_no_edge() -> None:
    recorder = edge_coverage.EdgeRecorder()
    runtime.add_transition_observer(recorder)
    try:
        Toy(clock=task.Clock()).automat("go", how="raise")
    finally:
        runtime.remove_transition_observer(recorder)
    assert recorder.taken == set()


# -- 'untestable:' in the front matter ---------------------------------------------------------


def test_untestable_names_edges_with_their_reasons() -> None:
    source = parse_text(toy("untestable:\n  BUSY -> BROKEN on crash: only a kernel panic sends it  # why\n"), "toy.md")
    [(edge, reason)] = source.untestable
    assert (edge.source, edge.event, edge.target) == ("BUSY", "crash", "BROKEN")
    assert reason == "only a kernel panic sends it"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  BUSY -> IDLE on crash: no such edge", "is not a transition of the diagram"),
        ("  BUSY -> BROKEN on crash:", "needs a reason"),
        ("  BUSY BROKEN crash: a reason", "bad untestable entry"),
        (
            "  BUSY -> BROKEN on crash: one\n  BUSY -> BROKEN on crash: two",
            "listed twice",
        ),
    ],
)
def test_bad_untestable_entries_are_refused(entry: str, message: str) -> None:
    with pytest.raises(AutomatSourceError, match=message):
        parse_text(toy(f"untestable:\n{entry}\n"), "toy.md")


def test_untestable_takes_only_indented_entries() -> None:
    with pytest.raises(AutomatSourceError, match="takes indented"):
        parse_text(toy("untestable: BUSY -> BROKEN on crash\n"), "toy.md")


# -- the report --------------------------------------------------------------------------------


def test_coverage_splits_taken_untaken_excused_and_stale() -> None:
    source = parse_text(toy("untestable:\n  BUSY -> BROKEN on crash: needs real hardware\n"), "toy.md")
    [item] = edge_coverage.coverage([source], {("automats/toy.md", "IDLE", "go", "BUSY")})
    assert [(e.source, e.event) for e in item.taken] == [("IDLE", "go")]
    assert [(e.source, e.event) for e in item.untaken] == [("BUSY", "done")]
    assert [(e.event, reason) for e, reason in item.excused] == [("crash", "needs real hardware")]
    assert item.taken_but_marked == () and item.failing
    lines = edge_coverage.format_table([item])
    assert lines[1].split() == ["toy", "1/3", "1", "1"]
    assert "  untaken    automats/toy.md: BUSY -> IDLE on done (line 13)" in lines
    assert "  untestable automats/toy.md: BUSY -> BROKEN on crash (line 14): needs real hardware" in lines

    taken = {("automats/toy.md", "IDLE", "go", "BUSY"), ("automats/toy.md", "BUSY", "done", "IDLE")}
    taken.add(("automats/toy.md", "BUSY", "crash", "BROKEN"))
    [stale] = edge_coverage.coverage([source], taken)
    assert stale.untaken == () and [e.event for e in stale.taken_but_marked] == ["crash"] and stale.failing
    assert any(line.startswith("  stale mark") for line in edge_coverage.format_table([stale]))


def test_transitions_of_another_machine_take_no_edge() -> None:
    source = parse_text(toy(), "toy.md")
    [item] = edge_coverage.coverage([source], {("automats/other.md", "IDLE", "go", "BUSY")})
    assert item.taken == ()


def test_unit_modules_leave_out_e2e(tmp_path: Path) -> None:
    for name in ("a/test_one.py", "e2e/test_slow.py", "test_top.py", "a/helpers.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert unit_modules(tmp_path) == {(tmp_path / "a/test_one.py").resolve(), (tmp_path / "test_top.py").resolve()}


# -- the plugin, in a session of its own -------------------------------------------------------


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with the toy machine's source and one test that takes two of its three edges."""
    (pytester.path / "automats").mkdir()
    (pytester.path / "automats" / "toy.md").write_text(toy())
    pytester.makeconftest('pytest_plugins = ["tests.automats.edge_plugin"]\n')
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_toy.py").write_text(TOY_TEST)
    (pytester.path / "tests" / "test_other.py").write_text("def test_nothing():\n    pass\n")
    return pytester


def test_a_whole_run_with_an_untaken_edge_fails_and_names_it(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:twisted")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*untaken    automats/toy.md: BUSY -> BROKEN on crash (line 12)*", "FAILED: *"])


def test_an_edge_marked_untestable_lets_the_whole_run_pass(project: pytest.Pytester) -> None:
    (project.path / "automats" / "toy.md").write_text(toy("untestable:\n  BUSY -> BROKEN on crash: a test reason\n"))
    result = project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:twisted")
    assert result.ret == pytest.ExitCode.OK
    assert "automats edge coverage" not in result.stdout.str()


@pytest.mark.parametrize("narrowing", [["tests/test_toy.py"], ["-k", "go_and_done"], ["-x", "--collect-only"]])
def test_a_partial_run_does_not_check(project: pytest.Pytester, narrowing: list[str]) -> None:
    result = project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:twisted", *narrowing)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    assert "untaken" not in result.stdout.str()


def test_the_report_option_prints_the_table_of_a_partial_run(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:twisted", "--automats-coverage", "tests/test_toy.py"
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*machine*taken*untestable*untaken*", "toy*2/3*0*1*", "*untaken*crash*"])
