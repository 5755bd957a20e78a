"""The shapes of what the composition module hands the Engine core.

The core sits above ``services`` and ``interface`` in the layer order, so it cannot import the
parts, the services or the REST and WebSocket servers; :mod:`bitdust.node.composition` builds them and passes
them in. The core only calls them through these narrow types (services through the registry's
``ServiceFactory``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from twisted.internet import defer

if TYPE_CHECKING:
    from bitdust.main.engine import Engine

#: The engine class a part is made for (the node's parts need ``NodeEngine``'s slots).
EngineT_contra = TypeVar("EngineT_contra", contravariant=True)
_T = TypeVar("_T")


class RunBlocking(Protocol):
    """``Engine.run_blocking``: run ``fn(*args, **kwargs)`` in a worker thread; fires with what it returned.

    Blocking work (disk, crypto, compression, erasure coding) never runs on the reactor thread, so every
    part that has some is handed this callable instead of the engine. The arguments are ``fn``'s own,
    which is why only the result is typed.
    """

    def __call__(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> defer.Deferred[_T]: ...


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


class NodePart(Protocol[EngineT_contra]):
    """A part of the node below the core (keys, identity, p2p), held in a slot the engine declares."""

    def attach(self, engine: EngineT_contra) -> None:
        """Reactor thread, at construction: build the part and fill the engine's slot for it."""

    def load(self, engine: EngineT_contra) -> None:
        """Worker thread, during startup: read what the part keeps on disk."""


LocalApiFactory = Callable[["Engine"], LocalApi]
"""Builds the local API of an engine once its services have started."""
