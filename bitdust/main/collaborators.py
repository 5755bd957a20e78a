"""The shapes of what the composition module hands the Engine core.

The core sits above ``services`` and ``interface`` in the layer order, so it cannot import the
parts, the services or the REST and WebSocket servers; :mod:`bitdust.node.composition` builds them and passes
them in. The core only calls them through these narrow types (services through the registry's
``ServiceFactory``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet import defer

if TYPE_CHECKING:
    from bitdust.main.engine import Engine


class LocalApi(Protocol):
    """The running local API of one engine (REST and WebSocket servers on loopback)."""

    @property
    def rest_port(self) -> int | None: ...

    @property
    def ws_port(self) -> int | None: ...

    def start(self) -> defer.Deferred[None]: ...

    def stop(self) -> defer.Deferred[None]: ...

    def broadcast(self, frame: dict[str, Any]) -> None:
        """Push ``frame`` to every connected WebSocket client."""


class NodePart(Protocol):
    """A part of the node below the core (keys, identity, p2p) that fastens itself to the engine."""

    def attach(self, engine: Engine) -> None:
        """Reactor thread, at construction: add the part's attributes to ``engine``."""

    def load(self, engine: Engine) -> None:
        """Worker thread, during startup: read what the part keeps on disk."""


LocalApiFactory = Callable[["Engine"], LocalApi]
"""Builds the local API of an engine once its services have started."""
