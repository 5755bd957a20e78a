"""The services a node can run, in one list; later issues add theirs here."""

from __future__ import annotations

from bitdust.main.service_manager import ServiceFactory


def service_factories() -> tuple[ServiceFactory, ...]:
    """Factories ``f(engine) -> BitDustService`` of every real service of the engine."""
    return ()
