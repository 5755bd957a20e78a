"""What a node answers to each RPC: PING, FIND_NODE, FIND_VALUE and STORE (the wire's ``args``).

A request on a layer this node is not active on is an RpcError; a STORE goes to the node's
:class:`~bitdust.dht.admission.Admission`, charged to the sender's host.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime

from bitdust.dht.admission import Admission
from bitdust.dht.errors import RpcError
from bitdust.dht.layer import LayerState
from bitdust.dht.limits import sender_of
from bitdust.dht.messages import Answer, Message, WireContact
from bitdust.dht.node_id import key_hash
from bitdust.dht.protocol import Address
from bitdust.dht.store import DhtStore


def answer_request(
    message: Message,
    address: Address,
    *,
    layers: dict[int, LayerState],
    k: int,
    clock: IReactorTime,
    store: DhtStore,
    admission: Admission,
) -> Answer | defer.Deferred[Answer]:
    """The answer's ``args`` to ``message`` from ``address`` (or a Deferred of them, for STORE)."""
    state = layers.get(message.layer)
    if state is None:
        raise RpcError("layer-inactive", f"layer {message.layer} is not served here")
    args = message.args
    if message.method == "ping":
        return {}
    if message.method == "find_node":
        return {"c": _closest_wire(state, args["n"], message.sender, k)}
    if message.method == "find_value":
        item = store.get(message.layer, args["k"], clock.seconds())
        if item is not None:
            return {"k": item.key, "v": item.value, "t": item.record_type, "ttl": item.ttl(clock.seconds())}
        return {"c": _closest_wire(state, key_hash(args["k"]), message.sender, k)}
    return admission.handle_store(message.layer, args, sender_of(address))


def _closest_wire(state: LayerState, target: bytes, asker: bytes, k: int) -> list[WireContact]:
    """The ``k`` contacts nearest to ``target`` but the asker, in their wire form."""
    return [c.to_wire() for c in state.table.closest(target, k, exclude=(asker,))]
