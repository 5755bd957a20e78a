"""A pytest plugin: record the machines' transitions and check every diagram edge is taken.

Recording is always on (one set insert per processed event). The check runs only when the session
is the whole unit suite, because a developer running one test file takes few edges by design. A
session counts as whole when it collected every ``test_*.py`` module under ``tests/`` outside
``tests/e2e/`` (so no path narrowed it), deselected nothing but ``e2e``-marked tests (so no ``-k``
or ``-m`` narrowed it further), and ran to the end (no ``-x`` stop, no ``--collect-only``).
``--automats-coverage`` prints the per-machine table whatever the session was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bitdust.automats import edge_coverage, runtime
from bitdust.automats.source import parse_source, source_files

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--automats-coverage",
        action="store_true",
        default=False,
        help="print the edges of automats/*.md the tests took and name those they did not",
    )


def pytest_configure(config: pytest.Config) -> None:
    recorder = edge_coverage.EdgeRecorder()
    runtime.add_transition_observer(recorder)
    config.stash[_STATE] = {"recorder": recorder, "collected": set(), "narrowed": False, "report": None}


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        runtime.remove_transition_observer(state["recorder"])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: before the mark and keyword plugins deselect anything.
    config.stash[_STATE]["collected"] = {Path(item.fspath).resolve() for item in items}


def pytest_deselected(items: list[pytest.Item]) -> None:
    if not items:
        return
    state = items[0].config.stash[_STATE]
    if any(item.get_closest_marker("e2e") is None for item in items):
        state["narrowed"] = True


def unit_modules(tests_dir: Path) -> set[Path]:
    """Every unit test module of the suite: what a whole session must have collected."""
    e2e = tests_dir / "e2e"
    return {path.resolve() for path in tests_dir.rglob("test_*.py") if e2e not in path.parents}


def _whole_suite(session: pytest.Session, state: dict) -> bool:
    config = session.config
    if config.option.collectonly or session.shouldstop or session.shouldfail or state["narrowed"]:
        return False
    tests_dir = Path(config.rootpath) / "tests"
    return unit_modules(tests_dir) <= state["collected"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[_STATE]
    whole = _whole_suite(session, state)
    if not whole and not session.config.getoption("automats_coverage"):
        return
    sources = [parse_source(path) for path in source_files(Path(session.config.rootpath) / "automats")]
    report = edge_coverage.coverage(sources, state["recorder"].taken)
    state["report"] = (report, whole)
    if whole and any(item.failing for item in report) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or state["report"] is None:
        return
    report, whole = state["report"]
    failing = whole and any(item.failing for item in report)
    if not failing and not config.getoption("automats_coverage"):
        return
    terminalreporter.section("automats edge coverage", red=failing, bold=failing)
    for line in edge_coverage.format_table(report):
        terminalreporter.line(line)
    if failing:
        terminalreporter.line(
            "FAILED: the edges above are not taken by any unit test; test each one, or mark it under "
            "'untestable:' in its source's front matter with the reason",
            red=True,
        )
