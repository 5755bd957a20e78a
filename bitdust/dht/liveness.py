"""Keeping routing tables live: every accepted message updates its layer's table.

Only from an address that proved itself (it answered a round trip: :mod:`bitdust.dht.addresses`):
a claim from one that did not is answered with one verification ping at most, and its answer is
what brings the node in. A full bucket pings its oldest contact and drops it if it is silent; a
node we did not know once we joined is a newcomer, handed the values it should hold.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.dht.errors import RpcError, RpcTimeout
from bitdust.dht.layer import LayerState
from bitdust.dht.limits import TokenBuckets
from bitdust.dht.messages import Contact, Message
from bitdust.dht.protocol import Address, DhtProtocol
from bitdust.dht.settings import DhtSettings
from bitdust.main.logs import log_failure


class Liveness:
    """Puts the senders of accepted messages in the tables of ``layers`` (a live view of the node's)."""

    def __init__(
        self,
        *,
        layers: dict[int, LayerState],
        clock: IReactorTime,
        protocol: DhtProtocol,
        settings: DhtSettings,
        newcomer: Callable[[LayerState, Contact], None],
        log: Logger,
    ) -> None:
        self.layers = layers
        self.clock = clock
        self.protocol = protocol
        self.newcomer = newcomer
        self.log = log
        self._pinging: set[bytes] = set()
        self._verify_address = TokenBuckets(clock, 1.0 / settings.verify_interval, 1.0)
        self._verify_all = TokenBuckets(clock, settings.verify_rate, settings.verify_rate, max_keys=1)

    def message_seen(self, message: Message, address: Address) -> None:
        """Update the routing table of ``message``'s layer with its sender (liveness for free)."""
        state = self.layers.get(message.layer)
        if state is None:
            return
        known = state.table.get(message.sender)
        if not message.attached:
            if known is not None and known.address == address:  # (only the node itself says it left)
                state.table.remove(message.sender)
            return
        if not self.protocol.guard.is_verified(address):
            if known is None or known.address != address:
                self._verify(state, address)
            return
        contact = Contact(message.sender, address[0], address[1])
        head = state.table.add(contact, self.clock.seconds())
        if head is not None and head.node_id not in self._pinging:
            self._ping_head(state, head)
        if known is None and state.joined and message.sender in state.table:
            # (while we join, everyone is new to us: those nodes are not newcomers to the network)
            self.newcomer(state, contact)

    def _verify(self, state: LayerState, address: Address) -> None:
        """Ping an address that has not answered us yet (once per ``verify_interval`` at most)."""
        if not self._verify_address.take(address) or not self._verify_all.take(""):
            return
        d = self.protocol.request(address, state.layer_id, "ping", {})
        d.addErrback(lambda failure: failure.trap(RpcTimeout, RpcError))
        d.addErrback(log_failure(self.log, "DHT address check failed"))

    def _ping_head(self, state: LayerState, head: Contact) -> None:
        """A full bucket's oldest contact: dropped unless it answers."""
        self._pinging.add(head.node_id)

        def failed(failure: Failure) -> None:
            failure.trap(RpcTimeout, RpcError)
            state.table.remove(head.node_id)

        d = self.protocol.request(head.address, state.layer_id, "ping", {})
        d.addCallbacks(lambda _: None, failed)
        d.addErrback(log_failure(self.log, "DHT bucket ping failed"))
        d.addBoth(lambda _: self._pinging.discard(head.node_id))
