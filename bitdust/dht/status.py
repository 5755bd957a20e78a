"""What a DHT node reports about itself (``network_status``'s ``dht`` part, ``dht`` in the API).

Kept apart from the node so the shape of the report, which clients read, is in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bitdust.dht.layer import LAYERS
from bitdust.dht.node_id import encode_id

if TYPE_CHECKING:
    from bitdust.dht.node import DhtNode


def layer_status(node: DhtNode, layer_id: int) -> dict[str, Any]:
    """One active layer: its table, its values, whether we announce ourselves, its RPC counters."""
    state = node.layers[layer_id]
    counters = node.protocol.counters(layer_id).to_json()
    contacts = state.table.contacts()
    return {
        "layer_id": layer_id,
        "name": LAYERS.get(layer_id, ""),
        "data_store_items": node.store.count(layer_id),
        "node_items": len(contacts),
        "node_id": encode_id(node.node_id),
        "buckets": state.table.bucket_count(),
        "contacts": [f"{c.host}:{c.port}" for c in contacts[:20]],
        "attached": state.attached,
        "active": True,
        "joined": state.joined,
        **counters,
    }


def node_status(node: DhtNode) -> dict[str, Any]:
    """The whole node: traffic, drops, the bootstrap's progress and every active layer."""
    now = node.clock.seconds()
    retry_at = node.bootstrap.next_retry_at
    retry_in = None if retry_at is None else max(0.0, round(retry_at - now, 3))
    return {
        "node_id": encode_id(node.node_id),
        "bytes_received": node.protocol.bytes_received,
        "bytes_sent": node.protocol.bytes_sent,
        "dropped": dict(node.protocol.dropped),
        "store_refusals": node.admission.refusals.to_json(),
        "bootstrap": {
            "state": node.bootstrap_state,
            "attempts": node.bootstrap_attempts,
            "seeds": [f"{h}:{p}" for h, p in node.seeds],
            "seeds_down": [f"{h}:{p}" for h, p in node.seeds_down],
            "next_retry_in": retry_in,
        },
        "layers": [layer_status(node, layer_id) for layer_id in sorted(node.layers)],
    }
