"""A DHT node's periodic work: refreshing stale buckets, republishing our values, expiring values.

Every loop runs on the node's injected clock; a layer that lost all its contacts joins again at
the next refresh, a bucket not looked up for ``refresh_interval`` is refreshed with a random lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import task

from bitdust.dht.node_id import random_id_in_bucket
from bitdust.main.logs import log_failure

if TYPE_CHECKING:
    from bitdust.dht.node import DhtNode


class Maintenance:
    """The looping calls of one node (refresh, republish, expire); ``stop`` ends them all."""

    def __init__(self, node: DhtNode) -> None:
        self.node = node
        self._loops: list[task.LoopingCall] = []

    def start(self) -> None:
        node, settings = self.node, self.node.settings
        for interval, work in (
            (min(settings.refresh_interval, 600.0), node.refresh),
            (settings.republish_interval, node.republish),
            (settings.expire_interval, node.expire),
        ):
            loop = task.LoopingCall(work)
            loop.clock = node.clock
            loop.start(interval, now=False).addErrback(log_failure(node.log, "DHT periodic work failed"))
            self._loops.append(loop)

    def stop(self) -> None:
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops = []

    def refresh(self) -> None:
        """Refresh stale buckets; a layer that lost all its contacts joins again."""
        node = self.node
        now = node.clock.seconds()
        if node.bootstrap_state != "joined":
            return
        for state in list(node.layers.values()):
            if not len(state.table) and node.seed_contacts:
                node.join_layer(state, again=True).addErrback(log_failure(node.log, "DHT rejoin failed"))
                continue
            for index in state.table.stale_buckets(now, node.settings.refresh_interval):
                state.table.mark_refreshed(index, now)
                target = random_id_in_bucket(node.node_id, index, node.rng)
                node.find_node(target, state.layer_id).addErrback(log_failure(node.log, "DHT bucket refresh failed"))
