"""Which edges of the machines' diagrams the unit tests take, and which they never take.

A diagram edge that no test takes is behaviour nobody has checked. The unit suite records every
processed event of every machine (through :func:`bitdust.automats.runtime.add_transition_observer`)
and compares the transitions with the edges parsed from ``automats/*.md``; an edge is taken when a
transition went from its source state on its event to its target state without an action or
condition raising. A source may mark an edge as untestable in its front matter, with the reason.

Edges are told apart by (source, event, target), which the runtime's history records; no machine
has two edges that share all three. One limit of that: an event for which no guarded edge of a
state holds leaves the state unchanged, and is counted as that state's self-loop on the event if
the diagram has one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from bitdust.automats.runtime import Transition

if TYPE_CHECKING:
    from bitdust.automats.runtime import Automat
    from bitdust.automats.source import Edge, MachineSource

# (machine source ref such as "automats/service.md", from state, event, to state)
TakenKey = tuple[str, str, str, str]


class EdgeRecorder:
    """A transition observer that keeps the distinct transitions every machine took."""

    def __init__(self) -> None:
        self.taken: set[TakenKey] = set()

    def __call__(self, automat: Automat, transition: Transition, failed: bool) -> None:
        # A failed event ended in the failure state because something raised, not by an edge.
        if not failed:
            self.taken.add((automat.SOURCE, transition.from_state, transition.event, transition.to_state))


@attrs.frozen
class MachineCoverage:
    """The edges of one machine, split by whether the unit tests took them."""

    source: MachineSource
    taken: tuple[Edge, ...]
    untaken: tuple[Edge, ...]
    # Untaken edges the source marks as untestable, with the reason.
    excused: tuple[tuple[Edge, str], ...]
    # Edges marked untestable that a test took all the same: the mark is stale.
    taken_but_marked: tuple[Edge, ...]

    @property
    def failing(self) -> bool:
        return bool(self.untaken or self.taken_but_marked)


def coverage(sources: Iterable[MachineSource], taken: Iterable[TakenKey]) -> list[MachineCoverage]:
    """Split every machine's edges into taken, untaken, and untaken but marked untestable."""
    seen = set(taken)
    result = []
    for source in sources:
        reasons = {id(edge): reason for edge, reason in source.untestable}
        hit, missed, excused, stale = [], [], [], []
        for edge in source.edges:
            is_taken = (source.ref, edge.source, edge.event, edge.target) in seen
            marked = id(edge) in reasons
            if is_taken:
                hit.append(edge)
                if marked:
                    stale.append(edge)
            elif marked:
                excused.append((edge, reasons[id(edge)]))
            else:
                missed.append(edge)
        result.append(MachineCoverage(source, tuple(hit), tuple(missed), tuple(excused), tuple(stale)))
    return result


def _edge_text(edge: Edge) -> str:
    return f"{edge.source} -> {edge.target} on {edge.event} (line {edge.line})"


def format_table(report: list[MachineCoverage]) -> list[str]:
    """The report as lines: one row per machine, then each edge not taken, named with its line."""
    width = max([len("machine")] + [len(item.source.name) for item in report])
    lines = [f"{'machine':<{width}}  taken  untestable  untaken"]
    for item in report:
        total = len(item.source.edges)
        lines.append(
            f"{item.source.name:<{width}}  {len(item.taken):>2}/{total:<2}  {len(item.excused):>10}  {len(item.untaken):>7}"
        )
    for item in report:
        for edge in item.untaken:
            lines.append(f"  untaken    {item.source.ref}: {_edge_text(edge)}")
        for edge, reason in item.excused:
            lines.append(f"  untestable {item.source.ref}: {_edge_text(edge)}: {reason}")
        for edge in item.taken_but_marked:
            lines.append(f"  stale mark {item.source.ref}: {_edge_text(edge)} is taken but marked untestable")
    return lines
