"""Two DHT nodes on real loopback UDP sockets: datagrams up to the 16 KiB limit get through."""

from __future__ import annotations

import random

import pytest_twisted
from twisted.internet import defer

from bitdust.dht import records
from bitdust.dht.messages import MAX_VALUE
from bitdust.dht.node import DhtNode
from bitdust.dht.settings import DhtSettings


@pytest_twisted.inlineCallbacks
def test_a_value_of_the_largest_size_is_stored_on_another_node_over_udp() -> None:
    from twisted.internet import reactor

    settings = DhtSettings(rpc_timeout=5.0)
    nodes = [DhtNode(clock=reactor, rng=random.Random(n), settings=settings) for n in range(2)]
    ports = [node.protocol.listen(reactor, 0, interface="127.0.0.1") for node in nodes]
    try:
        for node in nodes:
            node.layers[0].attached = True
        nodes[0].join([])
        nodes[1].join([("127.0.0.1", ports[0].getHost().port)])
        deadline = reactor.seconds() + 20
        while not nodes[1].layers[0].joined and reactor.seconds() < deadline:
            yield _later(reactor, 0.05)
        assert nodes[1].layers[0].joined
        record = {"type": "skip_validation", "data": ""}
        record["data"] = "x" * (MAX_VALUE - len(records.canonical_json(record)))
        data = records.canonical_json(record)
        assert len(data) == MAX_VALUE  # its STORE datagram is over Twisted's default 8,192 bytes
        outcome = yield nodes[1].set_value("big", data, ttl=600)
        assert [c.node_id for c in outcome.stored_on] == [nodes[0].node_id], outcome.refused
        assert nodes[0].store.get(0, "big", reactor.seconds()).value == data
        assert "malformed" not in nodes[0].protocol.dropped
    finally:
        for node, port in zip(nodes, ports, strict=True):
            node.stop()
            yield port.stopListening()


def _later(reactor, seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d
