from __future__ import annotations

import shutil
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from bitdust.automats.diagram import find_source, live_states, render_svg, to_dot
from bitdust.automats.errors import GraphvizFailed, GraphvizMissing
from bitdust.automats.source import parse_source
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import NotFound, Unavailable
from tests.automats.helpers import SOURCES


def _node_line(dot: str, state: str) -> str:
    return next(line for line in dot.splitlines() if line.strip().startswith(f'"{state}" ['))


def test_dot_has_every_state_and_edge() -> None:
    source = parse_source(SOURCES / "gate.md")
    dot = to_dot(source)
    assert dot.startswith('digraph "gate" {') and dot.rstrip().endswith("}")
    for state in source.states:
        assert f'"{state}" [label="{state}"' in dot
    for edge in source.edges:
        assert f'"{edge.source}" -> "{edge.target}" [label="{edge.label}"];' in dot
    assert '"__start__" [shape="point"' in dot and '"__start__" -> "CLOSED";' in dot
    assert 'shape="doublecircle"' in _node_line(dot, "GONE")
    assert "dashed" in _node_line(dot, "BROKEN")
    assert "filled" not in dot
    assert to_dot(source) == dot


def test_dot_highlights_live_states() -> None:
    source = parse_source(SOURCES / "gate.md")
    dot = to_dot(source, {"OPEN": 3, "CLOSED": 0, "NOT_A_STATE": 1})
    line = _node_line(dot, "OPEN")
    assert 'label="OPEN\\n3 live"' in line
    assert "filled" in line and "bold" in line and 'fillcolor="#ffd966"' in line
    assert "filled" not in _node_line(dot, "CLOSED")
    assert "NOT_A_STATE" not in dot


def test_live_states_counts_instances() -> None:
    automats = [SimpleNamespace(state=state) for state in ("OPEN", "OPEN", "CLOSED")]
    assert live_states(automats) == {"OPEN": 2, "CLOSED": 1}


def test_missing_graphviz_binary() -> None:
    with pytest.raises(GraphvizMissing) as info:
        render_svg("digraph {}", dot_binary="no-such-dot-program")
    error = info.value
    assert isinstance(error, Unavailable) and status_of(error) == 503
    assert "apt-get install graphviz" in error.message
    assert "brew install graphviz" in error.message
    assert "--format dot" in error.message


def test_missing_graphviz_on_empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        render_svg("digraph {}")


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-dot"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_render_runs_the_program(tmp_path: Path) -> None:
    fake = _script(tmp_path, 'test "$1" = -Tsvg || exit 3\necho "<svg>"\ncat\necho "</svg>"\n')
    assert render_svg("digraph {}", dot_binary=fake) == b"<svg>\ndigraph {}</svg>\n"


def test_render_failure(tmp_path: Path) -> None:
    fake = _script(tmp_path, 'echo "syntax error" >&2\nexit 1\n')
    with pytest.raises(GraphvizFailed, match="exited with code 1: syntax error"):
        render_svg("digraph {", dot_binary=fake)


def test_render_timeout(tmp_path: Path) -> None:
    fake = _script(tmp_path, "exec sleep 30\n")
    with pytest.raises(GraphvizFailed, match="did not finish"):
        render_svg("digraph {}", timeout=0.01, dot_binary=fake)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_with_real_graphviz() -> None:
    svg = render_svg(to_dot(parse_source(SOURCES / "gate.md"), {"OPEN": 1}))
    assert b"<svg" in svg and b"OPENING" in svg


def test_find_source() -> None:
    assert find_source("gate", SOURCES) == SOURCES / "gate.md"
    for name in ("door", "../sources/gate", "", "Gate"):
        with pytest.raises(NotFound):
            find_source(name, SOURCES)
