"""API methods that show the engine's state machines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bitdust.automats import diagram
from bitdust.automats.source import parse_source
from bitdust.interface.api.constraints import one_of, text
from bitdust.interface.api.spec import api_method
from bitdust.main.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from twisted.internet import defer

    from bitdust.main.engine import Engine

#: the copy of ``automats/*.md`` that an installed package carries (written by setup.py's build_py)
SHIPPED_SOURCES = Path(__file__).resolve().parents[2] / "automats" / "sources"


def sources_dir() -> Path:
    """Where the state machine sources are read from.

    In a checkout (an editable install, ``make run``) it is the repository's ``automats/``, the
    very files ``make automats`` generates the code from, so a diagram never lags behind an edit.
    An installed package has no repository beside it and reads the copy it ships instead.
    """
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "setup.py").is_file() and (checkout / "automats").is_dir():
        return checkout / "automats"
    return SHIPPED_SOURCES


@api_method("GET", "automat/list/v1")
def automats_list(engine: Engine) -> list[dict[str, Any]]:
    """Every live state machine of the engine with its index, id, name and state."""
    return [automat.to_json() for automat in engine.automats.list()]


@api_method("GET", "automat/info/v1", params={"index": "the machine's index from automats_list"}, answers=(404,))
def automat_info(engine: Engine, index: int) -> dict[str, Any]:
    """One live state machine with its recent transitions."""
    automat = engine.automats.get(index)
    if automat is None:
        raise NotFound(f"state machine with index {index} not found")
    return automat.info()


def live_states(engine: Engine, name: str) -> dict[str, int]:
    return dict(Counter(a.state for a in engine.automats.find(name)))


def render(name: str, states: dict[str, int], fmt: str) -> str:
    """Blocking: parse the source and render it (runs in a worker thread)."""
    source = parse_source(diagram.find_source(name, sources_dir()))
    dot = diagram.to_dot(source, states)
    if fmt == "dot":
        return dot
    return diagram.render_svg(dot).decode("utf-8")


@api_method(
    "GET",
    "automat/diagram/v1",
    params={
        "name": "machine name, e.g. initializer",
        "live": "highlight the states that running instances are in",
        "format": "dot (always works) or svg (needs Graphviz)",
    },
    constraints={"name": text(), "format": one_of("dot", "svg")},
    answers=(404, 503),
)
def automat_diagram(
    engine: Engine,
    name: str,
    live: bool = True,
    format: str = "dot",  # noqa: A002 - the original's name
) -> defer.Deferred[dict[str, Any]]:
    """The diagram of a state machine as DOT or SVG text, live states highlighted."""
    if format not in ("dot", "svg"):
        raise InvalidInput("parameter format: expected 'dot' or 'svg'")
    states = live_states(engine, name) if live else {}
    d = engine.run_blocking(render, name, states, format)
    return d.addCallback(lambda text: {"name": name, "format": format, "live_states": states, "diagram": text})
