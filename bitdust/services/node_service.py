"""The base of the node's services: a ``BitDustService`` that is given a ``NodeEngine``.

The service framework lives in the engine core (``bitdust/main/service_framework/service.py``), which cannot name
the node's parts; the services below it wire those parts (``engine.p2p``, ``engine.keys``,
``engine.catalog`` ...), so they take the engine class that declares them. The composition's
factories are typed accordingly: a bare core ``Engine`` cannot be given one of these services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bitdust.main.service_framework.service import BitDustService

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine


class NodeService(BitDustService):
    """Subclass as you would ``BitDustService``; ``self.engine`` is the node's engine."""

    engine: NodeEngine

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
