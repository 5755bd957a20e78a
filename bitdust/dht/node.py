"""A DHT node: one UDP protocol, a routing table per layer, one value store, timers.

Layers (:data:`LAYERS`) are independent Kademlia networks sharing one socket and one node id. On
a layer a node is *active* (it has a routing table there, answers and runs lookups) and may be
*attached* (it announces itself: every message it sends on the layer says so, and only attached
nodes enter other nodes' tables there). A seed is active on every layer and attached to layer 0
only, so it routes for everybody without being picked as, say, a supplier.

Joining is the ``dht_bootstrap`` state machine (:mod:`bitdust.dht.bootstrap`,
automats/dht_bootstrap.md): the seeds are pinged on layer 0; if none answers the node keeps
retrying with exponential backoff (``bootstrap`` in :meth:`DhtNode.status` says so); once one
answers, every active layer looks up the node's own id, which fills its table and announces it
to the nodes nearest to it. Buckets not looked up for ``refresh_interval`` are refreshed with a random lookup;
values expire after their TTL; values this node published are republished every
``republish_interval`` with the TTL they have left.

What an unauthenticated peer gets (issue 11): a node enters our tables, and is handed values, only
once its address answered a round trip (a request of ours, or a token we gave it: see
:mod:`bitdust.dht.addresses`); a claim from an address that did not is answered with one
verification ping at most. Hand-over is budgeted per sender host and in total; STOREs are
rate-limited and bounded per sender host, anonymous values live at most ``unsigned_max_ttl``, and
a full store pushes out anonymous values of the heaviest sender first (:mod:`bitdust.dht.quota`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet import defer, task
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.dht import messages
from bitdust.dht.bootstrap import DhtBootstrap
from bitdust.dht.errors import RecordError, RpcError, RpcTimeout
from bitdust.dht.limits import TokenBuckets, sender_of
from bitdust.dht.lookup import Lookup, LookupResult, Responder
from bitdust.dht.messages import MAX_VALUE_DEPTH, Contact, Message, nested_deeper_than
from bitdust.dht.node_id import (
    bucket_index,
    check_key,
    distance,
    encode_id,
    key_hash,
    random_id,
    random_id_in_bucket,
)
from bitdust.dht.protocol import Address, DhtProtocol
from bitdust.dht.quota import ANONYMOUS, record_rank
from bitdust.dht.records import RECORD_TYPES, RecordValidator, decode_record, lifetime_left, revision_of
from bitdust.dht.routing import RoutingTable
from bitdust.dht.store import DhtStore, StoredValue
from bitdust.main.logs import log_failure

if TYPE_CHECKING:
    from bitdust.automats.registry import AutomatRegistry

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


def check_layer(layer_id: Any) -> int:
    from bitdust.main.errors import BadRequest

    if isinstance(layer_id, bool) or not isinstance(layer_id, int) or layer_id not in LAYERS:
        raise BadRequest(f"unknown DHT layer {layer_id!r}: layers are 0 to {max(LAYERS)}")
    return layer_id


@attrs.frozen
class DhtSettings:
    k: int = 8
    alpha: int = 3
    rpc_timeout: float = 5.0
    default_ttl: int = 24 * 3600
    max_ttl: int = messages.MAX_TTL
    refresh_interval: float = 3600.0
    republish_interval: float = 3600.0
    expire_interval: float = 60.0
    rate_limit: float = 200.0
    rate_burst: float = 400.0
    backoff_min: float = 1.0
    backoff_max: float = 300.0
    max_items: int = 50_000
    #: values passed on to one newly seen node at most (the rest waits for the next republish)
    max_handover: int = 200
    #: bytes of values passed on to the nodes of one sender host per ``handover_window`` (a host
    #: that announces new ids again and again gets no more; the rest comes with republishing)
    handover_bytes_per_sender: int = 64 * 1024
    handover_window: float = 3600.0
    #: bytes of values passed on per second to all newcomers together (bursts up to 1 MiB)
    handover_bytes_rate: float = 64 * 1024
    handover_bytes_burst: int = 1024 * 1024
    #: one verification ping per address at most this often, and at most this many per second
    verify_interval: float = 30.0
    verify_rate: float = 20.0
    #: STOREs accepted per second from one sender host (bursts up to ``store_burst``)
    store_rate: float = 20.0
    store_burst: float = 200.0
    #: values kept for one sender host
    max_items_per_sender: int = 1000
    #: the longest a value of a record type nobody signs lives here (its publisher republishes it)
    unsigned_max_ttl: int = 24 * 3600


class LayerState:
    __slots__ = ("layer_id", "table", "attached", "joined", "joining")

    def __init__(self, layer_id: int, own_id: bytes, k: int) -> None:
        self.layer_id = layer_id
        self.table = RoutingTable(own_id, k=k)
        self.attached = False
        self.joined = False
        self.joining: defer.Deferred[None] | None = None


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


class DhtNode:
    def __init__(
        self,
        *,
        clock: IReactorTime,
        rng: random.Random,
        node_id: bytes | None = None,
        settings: DhtSettings | None = None,
        store: DhtStore | None = None,
        validator: RecordValidator | None = None,
        log: Logger | None = None,
        automats: AutomatRegistry | None = None,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.node_id = node_id if node_id is not None else random_id(rng)
        self.settings = settings or DhtSettings()
        self.store = (
            store
            if store is not None
            else DhtStore(max_items=self.settings.max_items, max_per_sender=self.settings.max_items_per_sender)
        )
        self.validator = validator or RecordValidator()
        self.log = log or Logger()
        self.idurl = ""
        self.layers: dict[int, LayerState] = {}
        self.protocol = DhtProtocol(
            self,
            clock=clock,
            rng=rng,
            rpc_timeout=self.settings.rpc_timeout,
            rate_limit=self.settings.rate_limit,
            rate_burst=self.settings.rate_burst,
            log=self.log,
        )
        self.bootstrap = DhtBootstrap(
            ping=self._ping_seed,
            join_layers=self._join_layers,
            backoff_min=self.settings.backoff_min,
            backoff_max=self.settings.backoff_max,
            clock=clock,
            registry=automats,
            instance_id=f"dht_bootstrap[{self.node_id.hex()[:8]}]",
            log=self.log,
        )
        self._pinging: set[bytes] = set()
        self._loops: list[task.LoopingCall] = []
        self._cache: dict[tuple[int, str], tuple[float, float, Any]] = {}
        self._running = False
        #: values passed on to nodes that joined close to them
        self.handed_over = 0
        settings = self.settings
        self._handover_sender = TokenBuckets(
            clock, settings.handover_bytes_per_sender / settings.handover_window, settings.handover_bytes_per_sender
        )
        self._handover_all = TokenBuckets(
            clock, settings.handover_bytes_rate, settings.handover_bytes_burst, max_keys=1
        )
        self._verify_address = TokenBuckets(clock, 1.0 / settings.verify_interval, 1.0)
        self._verify_all = TokenBuckets(clock, settings.verify_rate, settings.verify_rate, max_keys=1)
        self._store_rate = TokenBuckets(clock, settings.store_rate, settings.store_burst)
        self.activate_layer(0)

    # -- the protocol's view of us -------------------------------------------------------------

    def own_flags(self, layer: int) -> tuple[bool, str]:
        state = self.layers.get(layer)
        return (state is not None and state.attached, self.idurl)

    def message_seen(self, message: Message, address: Address) -> None:
        """Every accepted message updates the routing table of its layer (liveness for free).

        Only from an address that proved itself: a request from one that did not (its source may
        be forged) makes us ping that address, and its answer is what brings the node in.
        """
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
            self._hand_over(state, contact)

    def _verify(self, state: LayerState, address: Address) -> None:
        """Ping an address that has not answered us yet (once per ``verify_interval`` at most)."""
        if not self._verify_address.take(address) or not self._verify_all.take(""):
            return
        d = self.protocol.request(address, state.layer_id, "ping", {})
        d.addErrback(lambda failure: failure.trap(RpcTimeout, RpcError))
        d.addErrback(log_failure(self.log, "DHT address check failed"))

    def _hand_over(self, state: LayerState, newcomer: Contact) -> None:
        """A node we did not know: give it the values it should hold now (Kademlia's join rule).

        For each value we hold, if the newcomer is among the k nodes closest to its key and no other
        node we know is closer to the key than we are, we are the one to pass it on; so a value
        reaches a new neighbour once, not k times, and right away instead of at the next republish.
        The newcomer's host and all newcomers together have a budget: what does not fit waits for
        the publisher's next republish.
        """
        now = self.clock.seconds()
        sender = sender_of(newcomer.address)
        allowance = min(self._handover_sender.available(sender), self._handover_all.available(""))
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
            args = {"k": item.key, "v": item.value, "t": item.record_type, "ttl": item.ttl(now), "p": item.publisher}
            d = self.protocol.request(newcomer.address, state.layer_id, "store", args)
            d.addErrback(lambda failure: failure.trap(RpcTimeout, RpcError))
            d.addErrback(log_failure(self.log, "DHT hand-over of {key} failed", key=item.key))
            sent += 1
            size += len(item.value)
        if size:
            self._handover_sender.take(sender, size)
            self._handover_all.take("", size)
        self.handed_over += sent

    def _ping_head(self, state: LayerState, head: Contact) -> None:
        self._pinging.add(head.node_id)

        def failed(failure: Failure) -> None:
            failure.trap(RpcTimeout, RpcError)
            state.table.remove(head.node_id)

        d = self.protocol.request(head.address, state.layer_id, "ping", {})
        d.addCallbacks(lambda _: None, failed)
        d.addErrback(log_failure(self.log, "DHT bucket ping failed"))
        d.addBoth(lambda _: self._pinging.discard(head.node_id))

    def handle_request(self, message: Message, address: Address) -> dict[str, Any] | defer.Deferred[dict[str, Any]]:
        state = self.layers.get(message.layer)
        if state is None:
            raise RpcError("layer-inactive", f"layer {message.layer} is not served here")
        args = message.args
        if message.method == "ping":
            return {}
        if message.method == "find_node":
            return {"c": self._closest_wire(state, args["n"], message.sender)}
        if message.method == "find_value":
            item = self.store.get(message.layer, args["k"], self.clock.seconds())
            if item is not None:
                return {"k": item.key, "v": item.value, "t": item.record_type, "ttl": item.ttl(self.clock.seconds())}
            return {"c": self._closest_wire(state, key_hash(args["k"]), message.sender)}
        return self._handle_store(message.layer, args, sender_of(address))

    def _closest_wire(self, state: LayerState, target: bytes, asker: bytes) -> list[list[Any]]:
        return [c.to_wire() for c in state.table.closest(target, self.settings.k, exclude=(asker,))]

    def max_ttl_of(self, record_type: str) -> int:
        """The longest a value of ``record_type`` a peer stores here lives (anonymous ones: shorter)."""
        if record_rank(record_type) == ANONYMOUS:
            return min(self.settings.max_ttl, self.settings.unsigned_max_ttl)
        return self.settings.max_ttl

    def _handle_store(self, layer: int, args: dict[str, Any], sender: str) -> defer.Deferred[dict[str, Any]]:
        """A peer's STORE (its address proved itself: see VERIFIED_METHODS), charged to ``sender``."""
        key, value, record_type, ttl = args["k"], args["v"], args["t"], args["ttl"]
        if record_type not in RECORD_TYPES:
            return defer.fail(RpcError("record-type", f"unknown record type {record_type!r}"))
        if not self._store_rate.take(sender):
            return defer.fail(RpcError("store-rate", "too many stores from your host: try again later"))
        refusal = self.store.refusal(layer, key, sender, record_type)
        if refusal is not None:
            return defer.fail(RpcError(*refusal))
        d = self.validator.validate(key, value, record_type)

        def accept(record: dict[str, Any]) -> dict[str, Any]:
            ttl_here = min(ttl, self.max_ttl_of(record_type))
            self._accept_value(layer, key, value, record_type, record, ttl_here, args["p"], sender=sender)
            return {"ok": True}

        def refused(failure: Failure) -> None:
            failure.trap(RecordError)
            raise RpcError(f"record:{failure.value.rule}", failure.value.message)

        return d.addCallbacks(accept, refused)

    def _accept_value(
        self,
        layer: int,
        key: str,
        value: bytes,
        record_type: str,
        record: dict[str, Any],
        ttl: int,
        publisher: bytes,
        original: bool = False,
        sender: str = "",
    ) -> None:
        """Keep a valid value unless it would replace a newer one or another owner's record.

        A peer's value (``sender`` set) is kept within the store's limits; ours always.
        """
        now = self.clock.seconds()
        left = lifetime_left(record, record_type, now)
        if left is not None:  # a record with a signed lifetime is kept no longer than it is valid
            ttl = max(1, min(ttl, math.ceil(left)))
        revision = revision_of(record, record_type)
        existing = self.store.get(layer, key, now)
        if existing is not None and existing.value != value:
            self._check_replace(existing, record_type, record, revision)
        if existing is not None and existing.value == value:
            original = original or existing.original
        item = StoredValue(
            layer=layer,
            key=key,
            value=value,
            record_type=record_type,
            stored_at=now,
            expires_at=now + ttl,
            publisher=publisher,
            original=original,
            revision=revision,
            sender="" if original else sender,
        )
        if original or not sender:
            self.store.put(item)
        else:
            refused = self.store.admit(item)
            if refused is not None:
                raise RpcError(*refused)
        self._cache.pop((layer, key), None)

    @staticmethod
    def _check_replace(existing: StoredValue, record_type: str, record: dict[str, Any], revision: int | None) -> None:
        if existing.record_type != record_type and existing.record_type != "skip_validation":
            raise RpcError("record:type", f"key holds a {existing.record_type} record until it expires")
        kind = RECORD_TYPES[record_type]
        if kind.signer is not None and existing.record_type == record_type:
            try:
                old = decode_record(existing.value, record_type)
            except RecordError:
                return
            if old.get(kind.signer) != record.get(kind.signer):
                raise RpcError("record:owner", f"key is held by {old.get(kind.signer)} until its record expires")
        if revision is not None and existing.revision is not None and revision < existing.revision:
            raise RpcError("record:revision", f"revision {revision} is older than the stored {existing.revision}")

    # -- layers --------------------------------------------------------------------------------

    def activate_layer(self, layer_id: int) -> LayerState:
        """Have a routing table on ``layer_id`` (to answer and look up there) without announcing us."""
        state = self.layers.get(layer_id)
        if state is None:
            state = self.layers[layer_id] = LayerState(layer_id, self.node_id, self.settings.k)
        return state

    def ensure_layer(self, layer_id: int) -> defer.Deferred[None]:
        """Active on ``layer_id`` and joined there (when the network can be reached)."""
        state = self.activate_layer(layer_id)
        if state.joined or self.bootstrap_state != "joined":
            return defer.succeed(None)
        return self._join_layer(state)

    def attach_layer(self, layer_id: int) -> defer.Deferred[None]:
        """Announce ourselves on ``layer_id``: other nodes put us in their tables there."""
        state = self.activate_layer(layer_id)
        if state.attached:
            return defer.succeed(None)
        state.attached = True
        if self.bootstrap_state != "joined":
            return defer.succeed(None)
        return self._join_layer(state, again=True)

    def detach_layer(self, layer_id: int) -> defer.Deferred[Any]:
        """Stop announcing ourselves on ``layer_id``; the nodes we know there are told at once."""
        state = self.layers.get(layer_id)
        if state is None or not state.attached:
            return defer.succeed(None)
        state.attached = False
        pings = []
        for contact in state.table.contacts():
            d = self.protocol.request(contact.address, layer_id, "ping", {})
            d.addErrback(lambda f: f.trap(RpcTimeout, RpcError))
            pings.append(d)
        return defer.DeferredList(pings, consumeErrors=True)

    def attached_layers(self) -> list[int]:
        return sorted(layer for layer, state in self.layers.items() if state.attached)

    # -- joining -------------------------------------------------------------------------------

    def join(self, seeds: list[Address]) -> None:
        """Start joining through ``seeds`` (none: we are the first node, nothing to join)."""
        self.bootstrap.join(seeds)

    @property
    def bootstrap_state(self) -> str:
        """``idle``, ``no-seeds``, ``joining``, ``retrying``, ``joined`` or ``stopped``."""
        return self.bootstrap.bootstrap_state

    @property
    def bootstrap_attempts(self) -> int:
        return self.bootstrap.attempts

    @property
    def seeds(self) -> list[Address]:
        return self.bootstrap.seeds

    @property
    def seeds_down(self) -> list[Address]:
        return self.bootstrap.seeds_down

    @property
    def seed_contacts(self) -> dict[Address, Contact]:
        """Seeds that answered: entry points of lookups while a routing table is short."""
        return self.bootstrap.seed_contacts

    def _ping_seed(self, seed: Address) -> defer.Deferred[Message]:
        return self.protocol.request(seed, 0, "ping", {})

    def _join_layers(self) -> None:
        for state in list(self.layers.values()):
            self._join_layer(state, again=True).addErrback(log_failure(self.log, "DHT layer join failed"))

    def _join_layer(self, state: LayerState, again: bool = False) -> defer.Deferred[None]:
        if state.joining is not None:
            waiter: defer.Deferred[None] = defer.Deferred()
            state.joining.addBoth(lambda result: (waiter.callback(None), result)[1])
            return waiter
        if state.joined and not again:
            return defer.succeed(None)
        d = self.find_node(self.node_id, state.layer_id)
        state.joining = d

        def joined(_: Any) -> None:
            state.joined = True
            state.joining = None

        def failed(failure: Failure) -> None:
            state.joining = None
            self.log.failure("DHT join of layer {layer} failed", failure=failure, layer=state.layer_id)

        return d.addCallbacks(joined, failed)

    # -- timers --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the periodic work (refresh, republish, expiry) on the injected clock."""
        self._running = True
        for interval, work in (
            (min(self.settings.refresh_interval, 600.0), self.refresh),
            (self.settings.republish_interval, self.republish),
            (self.settings.expire_interval, self.expire),
        ):
            loop = task.LoopingCall(work)
            loop.clock = self.clock
            loop.start(interval, now=False).addErrback(log_failure(self.log, "DHT periodic work failed"))
            self._loops.append(loop)

    def stop(self) -> None:
        self._running = False
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops = []
        self.bootstrap.stop()
        self.protocol.cancel_all()

    def refresh(self) -> None:
        """Refresh stale buckets; a layer that lost all its contacts joins again."""
        now = self.clock.seconds()
        if self.bootstrap_state != "joined":
            return
        for state in list(self.layers.values()):
            if not len(state.table) and self.seed_contacts:
                self._join_layer(state, again=True).addErrback(log_failure(self.log, "DHT rejoin failed"))
                continue
            for index in state.table.stale_buckets(now, self.settings.refresh_interval):
                state.table.mark_refreshed(index, now)
                target = random_id_in_bucket(self.node_id, index, self.rng)
                self.find_node(target, state.layer_id).addErrback(log_failure(self.log, "DHT bucket refresh failed"))

    def republish(self) -> None:
        """Publish our own unexpired values again, with the time they have left."""
        now = self.clock.seconds()
        for item in self.store.items():
            if item.original and item.expires_at > now and item.layer in self.layers:
                d = self._publish(item.layer, item.key, item.value, item.record_type, item.ttl(now))
                d.addErrback(log_failure(self.log, "DHT republish of {key} failed", key=item.key))

    def expire(self) -> int:
        now = self.clock.seconds()
        gone = self.store.expire(now)
        for cache_key, (_fetched, until, _value) in list(self._cache.items()):
            if until <= now:
                del self._cache[cache_key]
        return len(gone)

    # -- lookups -------------------------------------------------------------------------------

    def _rpc(self, layer: int) -> Callable[[Contact, str, dict[str, Any]], defer.Deferred[Message]]:
        def call(contact: Contact, method: str, args: dict[str, Any]) -> defer.Deferred[Message]:
            return self.protocol.request(contact.address, layer, method, args)

        return call

    def _on_failure(self, layer: int) -> Callable[[Contact, str], None]:
        def failed(contact: Contact, reason: str) -> None:
            state = self.layers.get(layer)
            if state is not None:
                state.table.remove(contact.node_id)

        return failed

    def _start_contacts(self, state: LayerState, target: bytes) -> list[Contact]:
        start = state.table.closest(target, self.settings.k)
        if len(start) < self.settings.k:
            known = {c.node_id for c in start}
            start += [c for c in self.seed_contacts.values() if c.node_id not in known]
        return start

    def _lookup(self, layer: int, target: bytes, key: str | None = None, record_type: str | None = None) -> Lookup:
        state = self.activate_layer(layer)
        state.table.touch_bucket(target, self.clock.seconds())
        return Lookup(
            own_id=self.node_id,
            target=target,
            start=self._start_contacts(state, target),
            rpc=self._rpc(layer),
            alpha=self.settings.alpha,
            k=self.settings.k,
            key=key,
            record_type=record_type,
            validate=self.validator.validate,
            revision=(lambda record: revision_of(record, record_type)) if record_type else None,
            on_failure=self._on_failure(layer),
        )

    def find_node(self, target: bytes, layer: int = 0) -> defer.Deferred[LookupResult]:
        """The ``k`` live nodes nearest to ``target`` on ``layer``."""
        return self._lookup(layer, target).run()

    def get_value(
        self, key: str, layer: int = 0, record_type: str = "skip_validation", use_cache_ttl: float | None = None
    ) -> defer.Deferred[LookupResult]:
        """Find a valid ``record_type`` value of ``key``; ``result.value`` is None when there is none.

        A value we hold ourselves is answered at once (it was checked when stored) unless its
        type is versioned, where the network may know a newer revision. ``use_cache_ttl``
        accepts a value this node fetched at most that many seconds ago.
        """
        check_key(key)
        now = self.clock.seconds()
        if use_cache_ttl:
            cached = self._cache.get((layer, key))
            if cached is not None and now - cached[0] <= use_cache_ttl and cached[1] > now:
                return defer.succeed(cached[2])
        target = key_hash(key)
        local = self.store.get(layer, key, now)
        if local is not None and local.record_type == record_type and local.revision is None:
            return self._local_answer(local, record_type, target)
        d = self._lookup(layer, target, key=key, record_type=record_type).run()

        def found(result: LookupResult) -> LookupResult:
            if result.value is not None:
                until = self.clock.seconds() + result.value.ttl
                self._cache[(layer, key)] = (self.clock.seconds(), until, result)
            elif local is not None and local.record_type == record_type:
                return self._local_result(local, record_type, target, result)
            return result

        return d.addCallback(found)

    def _local_answer(self, local: StoredValue, record_type: str, target: bytes) -> defer.Deferred[LookupResult]:
        empty = LookupResult(target=target, closest=[], responders=[])
        return defer.succeed(self._local_result(local, record_type, target, empty))

    def _local_result(self, local: StoredValue, record_type: str, target: bytes, result: LookupResult) -> LookupResult:
        from bitdust.dht.lookup import FoundValue

        now = self.clock.seconds()
        record = self.readable_record(local)
        if record is None:
            return result
        me = Contact(self.node_id, "127.0.0.1", 0)
        result.value = FoundValue(local.key, local.value, record_type, local.ttl(now), record, me, local.revision)
        return result

    def readable_record(self, item: StoredValue) -> dict[str, Any] | None:
        """The record of a value we hold, or None (logged) when it is not a strict JSON object.

        Values are checked when they are stored, but a database written by an older version may
        hold one that is not (a NaN, say); such a value is ignored on read, like a record that
        breaks a rule, so it can never turn a read into an error.
        """
        try:
            return decode_record(item.value, item.record_type)
        except RecordError as exc:
            self.log.warn(
                "DHT value {key} on layer {layer} ignored: {reason}", key=item.key, layer=item.layer, reason=exc.message
            )
            return None

    def set_value(
        self, key: str, value: bytes, layer: int = 0, record_type: str = "skip_validation", ttl: int | None = None
    ) -> defer.Deferred[StoreOutcome]:
        """Check the record fully, keep it as ours (to republish) and store it on the ``k`` nearest nodes.

        Fails with RecordError (which rule) before anything is sent when the record is invalid
        or would replace a record this node holds for another owner or with a newer revision.
        """
        check_key(key)
        if nested_deeper_than(value):
            return defer.fail(RecordError(record_type, "json", f"the value nests deeper than {MAX_VALUE_DEPTH} levels"))
        ttl = self.settings.default_ttl if ttl is None else int(ttl)
        if not 0 < ttl <= self.settings.max_ttl:
            from bitdust.main.errors import BadRequest

            return defer.fail(BadRequest(f"expire must be 1 to {self.settings.max_ttl} seconds"))
        self.activate_layer(layer)
        d = self.validator.validate(key, value, record_type)

        def keep(record: dict[str, Any]) -> defer.Deferred[StoreOutcome]:
            previous = self.store.get(layer, key, self.clock.seconds())
            try:
                self._accept_value(layer, key, value, record_type, record, ttl, self.node_id, original=True)
            except RpcError as exc:
                rule = exc.code.removeprefix("record:")
                raise RecordError(record_type, rule, exc.detail) from None

            def published(outcome: StoreOutcome) -> StoreOutcome:
                if not outcome.success:  # the network said no: do not keep (and republish) it
                    if previous is not None:
                        self.store.put(previous)
                    else:
                        self.store.delete(layer, key)
                return outcome

            return self._publish(layer, key, value, record_type, ttl).addCallback(published)

        return d.addCallback(keep)

    def _publish(self, layer: int, key: str, value: bytes, record_type: str, ttl: int) -> defer.Deferred[StoreOutcome]:
        d = self.find_node(key_hash(key), layer)

        def store_on(result: LookupResult) -> defer.Deferred[StoreOutcome]:
            args = {"k": key, "v": value, "t": record_type, "ttl": ttl, "p": self.node_id}
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

    def random_nodes(self, layer: int, count: int, attempts: int = 3) -> defer.Deferred[list[Responder]]:
        """Up to ``count`` random live nodes attached to ``layer`` (they answered us just now)."""
        found: dict[bytes, Responder] = {}

        @defer.inlineCallbacks
        def collect() -> Any:
            yield self.ensure_layer(layer)
            for _ in range(attempts):
                result = yield self.find_node(random_id(self.rng), layer)
                for responder in result.responders:
                    if responder.attached and responder.contact.node_id != self.node_id:
                        found[responder.contact.node_id] = responder
                if len(found) >= count:
                    break
            chosen = list(found.values())
            self.rng.shuffle(chosen)
            return chosen[:count]

        return collect()

    # -- observability -------------------------------------------------------------------------

    def layer_status(self, layer_id: int) -> dict[str, Any]:
        state = self.layers[layer_id]
        counters = self.protocol.counters(layer_id).to_json()
        contacts = state.table.contacts()
        return {
            "layer_id": layer_id,
            "name": LAYERS.get(layer_id, ""),
            "data_store_items": self.store.count(layer_id),
            "node_items": len(contacts),
            "node_id": encode_id(self.node_id),
            "buckets": state.table.bucket_count(),
            "contacts": [f"{c.host}:{c.port}" for c in contacts[:20]],
            "attached": state.attached,
            "active": True,
            "joined": state.joined,
            **counters,
        }

    def status(self) -> dict[str, Any]:
        now = self.clock.seconds()
        retry_at = self.bootstrap.next_retry_at
        retry_in = None if retry_at is None else max(0.0, round(retry_at - now, 3))
        return {
            "node_id": encode_id(self.node_id),
            "bytes_received": self.protocol.bytes_received,
            "bytes_sent": self.protocol.bytes_sent,
            "dropped": dict(self.protocol.dropped),
            "bootstrap": {
                "state": self.bootstrap_state,
                "attempts": self.bootstrap_attempts,
                "seeds": [f"{h}:{p}" for h, p in self.seeds],
                "seeds_down": [f"{h}:{p}" for h, p in self.seeds_down],
                "next_retry_in": retry_in,
            },
            "layers": [self.layer_status(layer_id) for layer_id in sorted(self.layers)],
        }

    def bucket_of(self, node_id: bytes) -> int:
        return bucket_index(self.node_id, node_id)
