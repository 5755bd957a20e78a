"""Draw a machine: Graphviz DOT from its source, SVG through the ``dot`` program.

Mermaid already draws the source on any Markdown viewer; this renderer adds what Mermaid cannot:
the live state of the running instances, highlighted on the diagram, for the CLI and the API.
Running ``dot`` blocks, so callers on the reactor thread run :func:`render_svg` in a thread.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bitdust.automats.errors import GraphvizFailed, GraphvizMissing
from bitdust.automats.source import MACHINE_NAME, MachineSource
from bitdust.errors import NotFound

if TYPE_CHECKING:
    from bitdust.automats.runtime import Automat

LIVE_FILL = "#ffd966"
_START = "__start__"


def _quote(text: str) -> str:
    """A DOT double-quoted string; ``\\n`` stays a DOT line break."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**values: str | int | float) -> str:
    return "[" + ", ".join(f"{key}={_quote(str(value))}" for key, value in values.items()) + "]"


def to_dot(source: MachineSource, live_states: Mapping[str, int] | None = None) -> str:
    """The DOT text of ``source``; ``live_states`` maps a state to how many instances are in it.

    The initial marker is a point, final states are double circles, the failure state is drawn
    dashed, and states with live instances are filled, bold, and show their count.
    """
    live = {state: count for state, count in (live_states or {}).items() if count > 0}
    lines = [
        f"digraph {_quote(source.name)} {{",
        f"    graph {_attrs(label=source.name, labelloc='t', rankdir='LR', fontname='Helvetica')};",
        f"    node {_attrs(shape='box', style='rounded', fontname='Helvetica')};",
        f"    edge {_attrs(fontname='Helvetica', fontsize=10)};",
        f"    {_quote(_START)} {_attrs(shape='point', width=0.15, label='')};",
    ]
    for state in source.states:
        node: dict[str, str | int | float] = {"label": state}
        styles = ["rounded"]
        if state in source.final_states:
            node["shape"] = "doublecircle"
        if state == source.failure_state:
            styles.append("dashed")
        if state in live:
            node["label"] = f"{state}\n{live[state]} live"
            styles += ["filled", "bold"]
            node["fillcolor"] = LIVE_FILL
            node["penwidth"] = 2
        node["style"] = ",".join(styles)
        lines.append(f"    {_quote(state)} {_attrs(**node)};")
    lines.append(f"    {_quote(_START)} -> {_quote(source.initial_state)};")
    for edge in source.edges:
        lines.append(f"    {_quote(edge.source)} -> {_quote(edge.target)} {_attrs(label=edge.label)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def live_states(automats: Iterable[Automat]) -> dict[str, int]:
    """Count instances per state, e.g. from ``registry.find(name)``, for :func:`to_dot`."""
    return dict(collections.Counter(automat.state for automat in automats))


def render_svg(dot: str, timeout: float = 20, *, dot_binary: str = "dot") -> bytes:
    """Run ``dot -Tsvg`` on ``dot``; raise :class:`GraphvizMissing` when it is not installed."""
    executable = shutil.which(dot_binary)
    if executable is None:
        raise GraphvizMissing(dot_binary)
    try:
        result = subprocess.run(
            [executable, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise GraphvizFailed(f"{dot_binary} did not finish within {timeout} s") from None
    except OSError as exc:
        raise GraphvizFailed(f"{dot_binary} could not run: {exc}") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()
        raise GraphvizFailed(f"{dot_binary} exited with code {result.returncode}: {detail}")
    return result.stdout


def find_source(name: str, sources_dir: str | Path) -> Path:
    """The source file of machine ``name``; raise :class:`NotFound` for an unknown name."""
    path = Path(sources_dir) / f"{name}.md"
    if not MACHINE_NAME.fullmatch(name) or not path.is_file():
        raise NotFound(f"unknown state machine {name!r}")
    return path
