"""Hand-over: the values a node passes on to a newcomer that joined close to their keys.

Kademlia's join rule, budgeted: for each value we hold, if the newcomer is among the k nodes
closest to its key and no other node we know is closer to the key than we are, we are the one to
pass it on; so a value reaches a new neighbour once, not k times, and right away instead of at the
next republish. The newcomer's host and all newcomers together have a byte budget: what does not
fit waits for the publisher's next republish (issue 11: a host announcing ids gets no more).
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from bitdust.dht.errors import RpcError, RpcTimeout
from bitdust.dht.layer import LayerState
from bitdust.dht.limits import TokenBuckets, sender_of
from bitdust.dht.messages import Contact, RequestArgs
from bitdust.dht.node_id import distance, key_hash
from bitdust.dht.protocol import DhtProtocol
from bitdust.dht.settings import DhtSettings
from bitdust.dht.store import DhtStore
from bitdust.main.logs import log_failure


class HandOver:
    """Passes values on to newcomers within the per-host and total budgets; counts what it sent."""

    def __init__(
        self,
        *,
        node_id: bytes,
        clock: IReactorTime,
        store: DhtStore,
        protocol: DhtProtocol,
        settings: DhtSettings,
        log: Logger,
    ) -> None:
        self.node_id = node_id
        self.clock = clock
        self.store = store
        self.protocol = protocol
        self.settings = settings
        self.log = log
        #: values passed on to nodes that joined close to them
        self.handed_over = 0
        self._per_sender = TokenBuckets(
            clock, settings.handover_bytes_per_sender / settings.handover_window, settings.handover_bytes_per_sender
        )
        self._all = TokenBuckets(clock, settings.handover_bytes_rate, settings.handover_bytes_burst, max_keys=1)

    def hand_over(self, state: LayerState, newcomer: Contact) -> None:
        """A node we did not know on ``state``'s layer: give it the values it should hold now."""
        now = self.clock.seconds()
        sender = sender_of(newcomer.address)
        allowance = min(self._per_sender.available(sender), self._all.available(""))
        sent = size = 0
        for item in self.store.items(state.layer_id):
            if sent >= self.settings.max_handover:
                break
            if item.expires_at <= now or size + len(item.value) > allowance:
                continue
            target = key_hash(item.key)
            closest = state.table.closest(target, self.settings.k)
            if newcomer not in closest:
                continue
            ours = distance(self.node_id, target)
            if any(distance(c.node_id, target) < ours for c in closest if c.node_id != newcomer.node_id):
                continue
            args: RequestArgs = {
                "k": item.key,
                "v": item.value,
                "t": item.record_type,
                "ttl": item.ttl(now),
                "p": item.publisher,
            }
            d = self.protocol.request(newcomer.address, state.layer_id, "store", args)
            d.addErrback(lambda failure: failure.trap(RpcTimeout, RpcError))
            d.addErrback(log_failure(self.log, "DHT hand-over of {key} failed", key=item.key))
            sent += 1
            size += len(item.value)
        if size:
            self._per_sender.take(sender, size)
            self._all.take("", size)
        self.handed_over += sent
