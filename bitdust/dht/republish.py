"""Publishing a value on the ``k`` nodes nearest to its key, and republishing our own values.

Values this node published are stored again every ``republish_interval`` with the TTL they have
left, so they outlive the nodes that held them; what each node answered is a :class:`StoreOutcome`.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from bitdust.dht.errors import RpcError
from bitdust.dht.lookup import LookupResult
from bitdust.dht.messages import Contact, RequestArgs
from bitdust.dht.node_id import key_hash
from bitdust.dht.protocol import DhtProtocol
from bitdust.dht.settings import DhtSettings
from bitdust.dht.store import DhtStore
from bitdust.main.logs import log_failure


@attrs.define
class StoreOutcome:
    """What :meth:`DhtNode.set_value` achieved: who took the value and who refused it (why)."""

    key: str
    stored_on: list[Contact]
    refused: dict[str, str]
    closest: list[Contact]
    lookup: LookupResult | None

    @property
    def success(self) -> bool:
        return bool(self.stored_on) or (not self.closest and not self.refused)


class Publisher:
    """Stores values on the nodes a lookup finds nearest to their keys."""

    def __init__(
        self,
        *,
        node_id: bytes,
        clock: IReactorTime,
        store: DhtStore,
        protocol: DhtProtocol,
        settings: DhtSettings,
        find_node: Callable[[bytes, int], defer.Deferred[LookupResult]],
        log: Logger,
    ) -> None:
        self.node_id = node_id
        self.clock = clock
        self.store = store
        self.protocol = protocol
        self.settings = settings
        self.find_node = find_node
        self.log = log

    def publish(self, layer: int, key: str, value: bytes, record_type: str, ttl: int) -> defer.Deferred[StoreOutcome]:
        """Look up the nodes nearest to ``key`` and ask each to STORE the value."""
        d = self.find_node(key_hash(key), layer)

        def store_on(result: LookupResult) -> defer.Deferred[StoreOutcome]:
            args: RequestArgs = {"k": key, "v": value, "t": record_type, "ttl": ttl, "p": self.node_id}
            targets = result.closest[: self.settings.k]
            calls = [self.protocol.request(c.address, layer, "store", args) for c in targets]

            def tally(answers: list[tuple[bool, Any]]) -> StoreOutcome:
                stored, refused = [], {}
                for contact, (ok, answer) in zip(targets, answers, strict=True):
                    if ok:
                        stored.append(contact)
                    else:
                        reason = answer.value
                        refused[f"{contact.host}:{contact.port}"] = (
                            reason.detail or reason.code if isinstance(reason, RpcError) else answer.getErrorMessage()
                        )
                return StoreOutcome(key=key, stored_on=stored, refused=refused, closest=targets, lookup=result)

            return defer.DeferredList(calls, consumeErrors=True).addCallback(tally)

        return d.addCallback(store_on)

    def republish(self, active_layers: Container[int]) -> None:
        """Publish our own unexpired values on ``active_layers`` again, with the time they have left."""
        now = self.clock.seconds()
        for item in self.store.items():
            if item.original and item.expires_at > now and item.layer in active_layers:
                d = self.publish(item.layer, item.key, item.value, item.record_type, item.ttl(now))
                d.addErrback(log_failure(self.log, "DHT republish of {key} failed", key=item.key))
