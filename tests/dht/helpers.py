"""Small DHT networks for tests: nodes on the in-memory datagram network, deterministic."""

from __future__ import annotations

import random
from typing import Any

from twisted.internet import defer

from bitdust.dht.node import DhtNode
from bitdust.dht.records import RecordValidator
from bitdust.dht.settings import DhtSettings
from bitdust.dht.simulation import SimClock, SimNetwork, sim_address

ALICE = "http://127.0.0.1:8084/alice.xml"
BOB = "http://127.0.0.1:8084/bob.xml"


class Net:
    def __init__(self, seed: int = 3, settings: DhtSettings | None = None, validator: RecordValidator | None = None):
        self.clock = SimClock()
        self.network = SimNetwork(self.clock, random.Random(seed))
        self.settings = settings or DhtSettings(rpc_timeout=2.0)
        self.validator = validator
        self.seed = seed
        self.nodes: list[DhtNode] = []

    def add(
        self, *, seeds: int = 1, attached: tuple[int, ...] = (0,), join: bool = True, node_id: bytes | None = None
    ) -> DhtNode:
        index = len(self.nodes)
        node = DhtNode(
            clock=self.clock,  # type: ignore[arg-type]
            rng=random.Random(self.seed * 7919 + index),
            node_id=node_id,
            settings=self.settings,
            validator=self.validator,
        )
        self.network.listen(node.protocol, sim_address(index))
        self.nodes.append(node)
        for layer in attached:
            node.activate_layer(layer).attached = True
        if join:
            node.join([sim_address(i) for i in range(min(index, seeds))])
            self.settle()
        return node

    def settle(self, seconds: float = 30.0) -> None:
        """Let every scheduled datagram and timeout of the next ``seconds`` run."""
        end = self.clock.now + seconds
        while self.clock._heap and self.clock._heap[0].time <= end:
            self.clock.step()
        self.clock.now = max(self.clock.now, end)

    def wait(self, d: defer.Deferred[Any]) -> Any:
        return self.clock.wait(d)

    def build(self, count: int, **kwargs: Any) -> Net:
        for _ in range(count):
            self.add(**kwargs)
        return self
