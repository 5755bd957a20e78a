"""Turn the guarded edges of one state and event into a decision tree over its conditions.

The diagram's rule is "the first edge, in source order, whose condition holds". Written as an
if/elif over whole guards (``if a: ... elif not a and b: ...``), that rule calls ``is_a`` twice.
The tree below asks each condition at most once on any path, and asks them in exactly the order
the if/elif with short-circuit evaluation would first have reached them, so which edge is taken,
and which conditions run at all, stay what the diagram's order says.

Each node is found by replaying the first-match rule against the answers known so far: either an
edge is decided, no edge can hold, or the replay stops at the first condition not yet answered,
which becomes the question of the node. A path never asks a condition twice, so a tree is at most
two to the number of distinct conditions deep and wide; a state has a handful.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from bitdust.automats import conditions
from bitdust.automats.source import Edge

__all__ = ["Ask", "Tree", "build"]


@attrs.frozen
class Ask:
    """Call condition ``name`` once; continue with ``if_true`` or ``if_false``."""

    name: str
    if_true: Tree
    if_false: Tree


# An edge to take, None for "no edge holds: the state stays", or a question to ask first.
Tree = Edge | Ask | None


class _Unknown(Exception):
    """The replay reached a condition that has no answer yet."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _first_match(edges: Sequence[Edge], known: Mapping[str, bool]) -> Edge | None:
    def value(name: str) -> bool:
        if name not in known:
            raise _Unknown(name)
        return known[name]

    for edge in edges:
        if edge.condition is None or conditions.evaluate(edge.condition, value):
            return edge
    return None


def build(edges: Sequence[Edge], known: Mapping[str, bool] | None = None) -> Tree:
    """The decision tree of ``edges`` (one state, one event, in source order)."""
    known = dict(known or {})
    try:
        return _first_match(edges, known)
    except _Unknown as unknown:
        name = unknown.name
    return Ask(name, build(edges, {**known, name: True}), build(edges, {**known, name: False}))


def first_line(tree: Tree) -> int:
    """The smallest source line among the edges ``tree`` can take (no edge sorts last)."""
    if tree is None:
        return 1 << 30
    if isinstance(tree, Edge):
        return tree.line
    return min(first_line(tree.if_true), first_line(tree.if_false))
