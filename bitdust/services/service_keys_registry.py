"""service_keys_registry: the node's keys (the identity's master key and every other key)."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from bitdust.services.identity_part import sync_key_owner
from bitdust.services.node_service import NodeService


class KeysRegistryService(NodeService):
    name = "service_keys_registry"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    description = "holds the master key and the other keys of this node"

    def start(self) -> defer.Deferred[Any]:
        engine = self.engine
        d = engine.run_blocking(engine.keys.load)
        d.addCallback(lambda _: sync_key_owner(engine.local_identity, engine.keys))
        return d

    def stop(self) -> None:
        return None
