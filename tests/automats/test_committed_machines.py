"""Every machine in automats/ is generated, current, and fully implemented by its subclass."""

from __future__ import annotations

from pathlib import Path

import pytest

from bitdust.automats.checks import missing_methods, signature_problems
from bitdust.automats.generator import flat_path, generate_all, generated_path
from bitdust.automats.source import parse_source, source_files

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "automats"
MACHINES = source_files(SOURCES)


def test_the_engine_machines_exist() -> None:
    names = {parse_source(p).name for p in MACHINES}
    assert {"initializer", "shutdowner", "service"} <= names


def test_committed_generated_files_are_current(tmp_path) -> None:
    generate_all(SOURCES, ROOT, out=tmp_path)
    stale = []
    for path in MACHINES:
        source = parse_source(path)
        fresh = flat_path(source, tmp_path).read_text(encoding="utf-8")
        committed = generated_path(source, ROOT)
        if not committed.is_file() or committed.read_text(encoding="utf-8") != fresh:
            stale.append(str(committed.relative_to(ROOT)))
    assert stale == [], f"stale generated machines, run `make automats`: {stale}"


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.stem)
def test_subclass_implements_every_action_and_condition(path: Path) -> None:
    assert missing_methods(parse_source(path)) == []


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.stem)
def test_subclass_actions_and_conditions_take_the_event_payload(path: Path) -> None:
    assert signature_problems(parse_source(path)) == []
