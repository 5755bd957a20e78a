"""DHT layers: their names, the check of a layer number, and one node's state on one layer.

Layers are independent Kademlia networks sharing one socket and one node id. On a layer a node
is *active* (it has a routing table there) and may be *attached* (it announces itself there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.dht.routing import RoutingTable

LAYERS: dict[int, str] = {
    0: "base",
    1: "identity servers",
    2: "proxy routers",
    3: "suppliers",
    4: "rebuilders",
    5: "broadcasters",
    6: "merchants",
    7: "message brokers",
    8: "customers",
    9: "web socket routers",
}


def check_layer(layer_id: object) -> int:
    """``layer_id`` if it names a layer (a bool is no layer number); InvalidInput otherwise."""
    from bitdust.main.errors import InvalidInput

    if isinstance(layer_id, bool) or not isinstance(layer_id, int) or layer_id not in LAYERS:
        raise InvalidInput(f"unknown DHT layer {layer_id!r}: layers are 0 to {max(LAYERS)}")
    return layer_id


class LayerState:
    """What a node knows of one layer: its routing table, whether it announces itself, its join."""

    __slots__ = ("layer_id", "table", "attached", "joined", "joining")

    def __init__(self, layer_id: int, own_id: bytes, k: int) -> None:
        self.layer_id = layer_id
        self.table = RoutingTable(own_id, k=k)
        self.attached = False
        self.joined = False
        self.joining: defer.Deferred[None] | None = None

    def join(
        self, look_up_self: Callable[[], defer.Deferred[Any]], log: Logger, again: bool = False
    ) -> defer.Deferred[None]:
        """Join the layer: look up our own id there, which fills the table and announces us.

        One join at a time: a caller during a join waits for it; ``again`` joins a joined layer anew.
        A failed join is logged and leaves the layer unjoined (the next refresh tries again).
        """
        if self.joining is not None:
            waiter: defer.Deferred[None] = defer.Deferred()

            def release(result: object) -> object:
                waiter.callback(None)
                return result

            self.joining.addBoth(release)
            return waiter
        if self.joined and not again:
            return defer.succeed(None)
        d = look_up_self()
        self.joining = d

        def joined(_: Any) -> None:
            self.joined = True
            self.joining = None

        def failed(failure: Failure) -> None:
            self.joining = None
            log.failure("DHT join of layer {layer} failed", failure=failure, layer=self.layer_id)

        return d.addCallbacks(joined, failed)
