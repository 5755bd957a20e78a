"""A DHT node: the facade services and the API call; one UDP protocol, a routing table per layer.

Layers (:data:`~bitdust.dht.layer.LAYERS`) are independent Kademlia networks sharing one socket and
one node id. On a layer a node is *active* (it has a routing table there, answers and runs
lookups) and may be *attached* (it announces itself: only attached nodes enter other nodes'
tables there). A seed is active on every layer and attached to layer 0 only.

Joining is the ``dht_bootstrap`` state machine (:mod:`bitdust.dht.bootstrap`): the seeds are pinged
on layer 0, with exponential backoff while none answers; then every active layer looks up the
node's own id. The parts: :mod:`~bitdust.dht.liveness` (tables), :mod:`~bitdust.dht.answers`
(RPCs), :mod:`~bitdust.dht.admission` (which values are kept: issue 11's limits),
:mod:`~bitdust.dht.handover`, :mod:`~bitdust.dht.republish`, :mod:`~bitdust.dht.maintenance`
(timers), :mod:`~bitdust.dht.value_cache`, :mod:`~bitdust.dht.status`.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.internet.interfaces import IListeningPort, IReactorTime, IReactorUDP
from twisted.logger import Logger

from bitdust.dht.admission import Admission
from bitdust.dht.answers import answer_request
from bitdust.dht.bootstrap import DhtBootstrap
from bitdust.dht.errors import RecordError, RpcError, RpcTimeout
from bitdust.dht.handover import HandOver
from bitdust.dht.layer import LayerState
from bitdust.dht.liveness import Liveness
from bitdust.dht.local_values import RunBlocking, dump_values, local_result, readable_record
from bitdust.dht.lookup import Lookup, LookupResult, Responder
from bitdust.dht.lookups import layer_lookup, random_nodes
from bitdust.dht.maintenance import Maintenance
from bitdust.dht.messages import MAX_VALUE_DEPTH, Answer, Contact, Message, nested_deeper_than
from bitdust.dht.node_id import check_key, key_hash, random_id
from bitdust.dht.protocol import Address, DhtProtocol
from bitdust.dht.records import RecordValidator
from bitdust.dht.republish import Publisher, StoreOutcome
from bitdust.dht.settings import DhtSettings
from bitdust.dht.status import layer_status, node_status
from bitdust.dht.store import DhtStore, StoredValue
from bitdust.dht.value_cache import ValueCache
from bitdust.main.logs import log_failure

if TYPE_CHECKING:
    from bitdust.automats.registry import AutomatRegistry


class DhtNode:
    """The facade of the DHT: routing and lookups here, the rest in the parts the module names."""

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
        self._cache = ValueCache()
        settings = self.settings
        self.admission = Admission(
            clock=clock, store=self.store, validator=self.validator, settings=settings, cache=self._cache
        )
        self.handover = HandOver(
            node_id=self.node_id, clock=clock, store=self.store, protocol=self.protocol, settings=settings, log=self.log
        )
        self.publisher = Publisher(
            node_id=self.node_id,
            clock=clock,
            store=self.store,
            protocol=self.protocol,
            settings=settings,
            find_node=self.find_node,
            log=self.log,
        )
        self.liveness = Liveness(
            layers=self.layers,
            clock=clock,
            protocol=self.protocol,
            settings=settings,
            newcomer=self.handover.hand_over,
            log=self.log,
        )
        self.maintenance = Maintenance(self)
        self.activate_layer(0)

    @property
    def handed_over(self) -> int:
        """Values passed on to nodes that joined close to them."""
        return self.handover.handed_over

    # -- what the owning service calls ---------------------------------------------------------

    def listen(self, reactor: IReactorUDP, port: int, interface: str = "") -> IListeningPort:
        """Open the node's UDP port (0: a free one) on ``interface`` ('' : all)."""
        return self.protocol.listen(reactor, port, interface=interface)

    def set_idurl(self, idurl: str) -> None:
        """The identity every message we send names from now on ('' for a node without one)."""
        self.idurl = idurl

    def flushed(self) -> defer.Deferred[None]:
        """Fires once every value change so far is written to the store's database."""
        return self.store.flushed()

    def close_store(self) -> None:
        """Blocking (run it on a worker thread, after :meth:`flushed`): close the store's database."""
        self.store.close()

    # -- the protocol's view of us -------------------------------------------------------------

    def own_flags(self, layer: int) -> tuple[bool, str]:
        state = self.layers.get(layer)
        return (state is not None and state.attached, self.idurl)

    def message_seen(self, message: Message, address: Address) -> None:
        """Every accepted message updates the routing table of its layer (see :mod:`bitdust.dht.liveness`)."""
        self.liveness.message_seen(message, address)

    def handle_request(self, message: Message, address: Address) -> Answer | defer.Deferred[Answer]:
        layers, k = self.layers, self.settings.k
        return answer_request(
            message, address, layers=layers, k=k, clock=self.clock, store=self.store, admission=self.admission
        )

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
        return self.join_layer(state)

    def mark_attached(self, layer_id: int) -> None:
        """Announce ourselves on ``layer_id`` from the next message on, without joining it now.

        For the layers a node starts with, before :meth:`join` (which joins every active layer).
        """
        self.activate_layer(layer_id).attached = True

    def attach_layer(self, layer_id: int) -> defer.Deferred[None]:
        """Announce ourselves on ``layer_id``: other nodes put us in their tables there."""
        state = self.activate_layer(layer_id)
        if state.attached:
            return defer.succeed(None)
        state.attached = True
        if self.bootstrap_state != "joined":
            return defer.succeed(None)
        return self.join_layer(state, again=True)

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
        self.bootstrap.join(seeds=seeds)

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
            self.join_layer(state, again=True).addErrback(log_failure(self.log, "DHT layer join failed"))

    def join_layer(self, state: LayerState, again: bool = False) -> defer.Deferred[None]:
        """Join ``state``'s layer by looking up our own id there (see :meth:`LayerState.join`)."""
        return state.join(lambda: self.find_node(self.node_id, state.layer_id), self.log, again=again)

    # -- timers --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the periodic work (refresh, republish, expiry) on the injected clock."""
        self.maintenance.start()

    def stop(self) -> None:
        self.maintenance.stop()
        self.bootstrap.stop()
        self.protocol.cancel_all()

    def refresh(self) -> None:
        """Refresh stale buckets; a layer that lost all its contacts joins again."""
        self.maintenance.refresh()

    def republish(self) -> None:
        """Publish our own unexpired values again, with the time they have left."""
        self.publisher.republish(self.layers)

    def expire(self) -> int:
        now = self.clock.seconds()
        gone = self.store.expire(now)
        self._cache.expire(now)
        return len(gone)

    # -- lookups -------------------------------------------------------------------------------

    def _lookup(self, layer: int, target: bytes, key: str | None = None, record_type: str | None = None) -> Lookup:
        return layer_lookup(
            self.activate_layer(layer),
            target,
            own_id=self.node_id,
            now=self.clock.seconds(),
            protocol=self.protocol,
            settings=self.settings,
            validator=self.validator,
            seeds=list(self.seed_contacts.values()),
            key=key,
            record_type=record_type,
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
            cached = self._cache.get(layer, key, now, use_cache_ttl)
            if cached is not None:
                return defer.succeed(cached)
        target = key_hash(key)
        local = self.store.get(layer, key, now)
        if local is not None and local.record_type == record_type and local.revision is None:
            return defer.succeed(self._local_result(local, record_type, LookupResult(target, [], [])))
        d = self._lookup(layer, target, key=key, record_type=record_type).run()

        def found(result: LookupResult) -> LookupResult:
            if result.value is not None:
                until = self.clock.seconds() + result.value.ttl
                self._cache.put(layer, key, self.clock.seconds(), until, result)
            elif local is not None and local.record_type == record_type:
                return self._local_result(local, record_type, result)
            return result

        return d.addCallback(found)

    def _local_result(self, local: StoredValue, record_type: str, result: LookupResult) -> LookupResult:
        return local_result(local, record_type, result, own_id=self.node_id, now=self.clock.seconds(), log=self.log)

    def readable_record(self, item: StoredValue) -> dict[str, Any] | None:
        """The record of a value we hold, or None (logged) when it is not a strict JSON object."""
        return readable_record(item, self.log)

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
            from bitdust.main.errors import InvalidInput

            return defer.fail(InvalidInput(f"expire must be 1 to {self.settings.max_ttl} seconds"))
        self.activate_layer(layer)
        d = self.validator.validate(key, value, record_type)

        def keep(record: dict[str, Any]) -> defer.Deferred[StoreOutcome]:
            previous = self.store.get(layer, key, self.clock.seconds())
            try:
                self.admission.accept_value(layer, key, value, record_type, record, ttl, self.node_id, original=True)
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

            return self.publisher.publish(layer, key, value, record_type, ttl).addCallback(published)

        return d.addCallback(keep)

    def random_id(self) -> bytes:
        """A random id to look up (drawn from the node's injected random source)."""
        return random_id(self.rng)

    def dump_values(self, run_blocking: RunBlocking) -> defer.Deferred[list[dict[str, Any]]]:
        """Every unexpired value we hold, on every layer, as JSON rows (see :func:`dump_values`)."""
        now = self.clock.seconds()
        return dump_values([item for item in self.store.items() if item.expires_at > now], now, run_blocking, self.log)

    def random_nodes(self, layer: int, count: int, attempts: int = 3) -> defer.Deferred[list[Responder]]:
        """Up to ``count`` random live nodes attached to ``layer`` (they answered us just now)."""
        return random_nodes(self, layer, count, attempts)

    # -- observability -------------------------------------------------------------------------

    def layer_status(self, layer_id: int) -> dict[str, Any]:
        return layer_status(self, layer_id)

    def status(self) -> dict[str, Any]:
        return node_status(self)
