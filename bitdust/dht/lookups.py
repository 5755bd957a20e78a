"""Starting a lookup on one layer: from its routing table, topped up with the seeds that answered.

A contact that fails during the lookup leaves the layer's table; the lookup's requests go out on
the node's protocol, and values are checked by the node's record rules.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.dht.layer import LayerState
from bitdust.dht.lookup import Lookup, Responder
from bitdust.dht.messages import Contact, Message, RequestArgs
from bitdust.dht.node_id import random_id
from bitdust.dht.protocol import DhtProtocol
from bitdust.dht.records import RecordValidator, revision_of
from bitdust.dht.settings import DhtSettings

if TYPE_CHECKING:
    from bitdust.dht.node import DhtNode


def start_contacts(state: LayerState, target: bytes, k: int, seeds: list[Contact]) -> list[Contact]:
    """The ``k`` nearest contacts the table knows, and every answering seed while it knows fewer."""
    start = state.table.closest(target, k)
    if len(start) < k:
        known = {c.node_id for c in start}
        start += [c for c in seeds if c.node_id not in known]
    return start


def layer_lookup(
    state: LayerState,
    target: bytes,
    *,
    own_id: bytes,
    now: float,
    protocol: DhtProtocol,
    settings: DhtSettings,
    validator: RecordValidator,
    seeds: list[Contact],
    key: str | None = None,
    record_type: str | None = None,
) -> Lookup:
    """A lookup of ``target`` (a value of ``key`` when given) on ``state``'s layer, not yet run."""
    layer = state.layer_id
    state.table.touch_bucket(target, now)

    def call(contact: Contact, method: str, args: RequestArgs) -> defer.Deferred[Message]:
        return protocol.request(contact.address, layer, method, args)

    def failed(contact: Contact, reason: str) -> None:
        state.table.remove(contact.node_id)

    revision: Callable[[dict[str, Any]], int | None] | None = None
    if record_type:
        revision = lambda record: revision_of(record, record_type)  # noqa: E731
    return Lookup(
        own_id=own_id,
        target=target,
        start=start_contacts(state, target, settings.k, seeds),
        rpc=call,
        alpha=settings.alpha,
        k=settings.k,
        key=key,
        record_type=record_type,
        validate=validator.validate,
        revision=revision,
        on_failure=failed,
    )


def random_nodes(node: DhtNode, layer: int, count: int, attempts: int = 3) -> defer.Deferred[list[Responder]]:
    """Up to ``count`` random live nodes attached to ``layer``: the answering ones of random lookups."""
    found: dict[bytes, Responder] = {}

    @defer.inlineCallbacks
    def collect() -> Generator[defer.Deferred[Any], Any, list[Responder]]:
        yield node.ensure_layer(layer)
        for _ in range(attempts):
            result = yield node.find_node(random_id(node.rng), layer)
            for responder in result.responders:
                if responder.attached and responder.contact.node_id != node.node_id:
                    found[responder.contact.node_id] = responder
            if len(found) >= count:
                break
        chosen = list(found.values())
        node.rng.shuffle(chosen)
        return chosen[:count]

    return collect()
