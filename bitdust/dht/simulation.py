"""Many DHT nodes in one process: an in-memory datagram network on a deterministic clock.

Nothing here touches a socket or the wall clock. :class:`SimClock` is a heap-ordered
``IReactorTime`` (``task.Clock`` re-sorts its whole list on every ``callLater``, too slow for a
thousand nodes); :class:`SimNetwork` delivers each datagram after a random latency drawn from its
own seeded generator, and a killed node's datagrams vanish, as a crashed host's would. The same
seed gives the same run, figure for figure.
"""

from __future__ import annotations

import heapq
import random
import statistics
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.dht.messages import Contact
from bitdust.dht.node import DhtNode
from bitdust.dht.node_id import distance, key_hash
from bitdust.dht.records import canonical_json
from bitdust.dht.settings import DhtSettings

Address = tuple[str, int]
_T = TypeVar("_T")


class _Call:
    __slots__ = ("time", "seq", "fn", "args", "kwargs", "cancelled", "called")

    def __init__(
        self, time: float, seq: int, fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object]
    ) -> None:
        self.time = time
        self.seq = seq
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.cancelled = False
        self.called = False

    def __lt__(self, other: _Call) -> bool:
        return (self.time, self.seq) < (other.time, other.seq)

    def getTime(self) -> float:  # noqa: N802 - IDelayedCall
        return self.time

    def active(self) -> bool:
        return not (self.cancelled or self.called)

    def cancel(self) -> None:
        self.cancelled = True


class SimClock:
    """A deterministic clock: calls run in time order, ties in the order they were scheduled."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[_Call] = []
        self._seq = 0

    def seconds(self) -> float:
        return self.now

    def callLater(self, delay: float, fn: Callable[..., object], *args: object, **kwargs: object) -> _Call:  # noqa: N802
        self._seq += 1
        call = _Call(self.now + max(0.0, delay), self._seq, fn, args, kwargs)
        heapq.heappush(self._heap, call)
        return call

    def step(self) -> bool:
        """Run the next due call; False when nothing is scheduled."""
        while self._heap:
            call = heapq.heappop(self._heap)
            if call.cancelled:
                continue
            self.now = max(self.now, call.time)
            call.called = True
            call.fn(*call.args, **call.kwargs)
            return True
        return False

    def run_until(self, done: Callable[[], bool], limit: float = 3600.0) -> None:
        """Run calls until ``done()``; RuntimeError when nothing is left to run or ``limit`` passes."""
        end = self.now + limit
        while not done():
            if not self.step():
                raise RuntimeError("simulation stalled: nothing scheduled")
            if self.now > end:
                raise RuntimeError(f"simulation did not finish within {limit} simulated seconds")

    def wait(self, d: defer.Deferred[_T], limit: float = 3600.0) -> _T:
        """Run until ``d`` fires; its result (or its failure raised)."""
        box: list[_T | Failure] = []
        d.addBoth(box.append)
        self.run_until(lambda: bool(box), limit)
        result = box[0]
        if isinstance(result, Failure):
            result.raiseException()
        return result


class SimTransport:
    """What a DatagramProtocol writes to: hands datagrams to the network."""

    def __init__(self, network: SimNetwork, address: Address) -> None:
        self.network = network
        self.address = address

    def write(self, data: bytes, addr: Address) -> None:
        self.network.deliver(self.address, tuple(addr), data)  # type: ignore[arg-type]

    def stopListening(self) -> None:  # noqa: N802 - IListeningPort
        self.network.kill(self.address)


class SimNetwork:
    def __init__(self, clock: SimClock, rng: random.Random, latency: tuple[float, float] = (0.005, 0.05)) -> None:
        self.clock = clock
        self.rng = rng
        self.latency = latency
        # a DhtProtocol (or a bench's raw peer); SimTransport stands in for its IUDPTransport
        self.endpoints: dict[Address, Any] = {}
        self.delivered = 0
        self.lost = 0

    def listen(self, protocol: Any, address: Address) -> SimTransport:
        transport = SimTransport(self, address)
        self.endpoints[address] = protocol
        protocol.makeConnection(transport)
        return transport

    def kill(self, address: Address) -> None:
        """The host vanishes without a word: datagrams to it are lost from now on."""
        self.endpoints.pop(address, None)

    def deliver(self, source: Address, target: Address, data: bytes) -> None:
        self.clock.callLater(self.rng.uniform(*self.latency), self._arrive, source, target, data)

    def _arrive(self, source: Address, target: Address, data: bytes) -> None:
        protocol = self.endpoints.get(target)
        if protocol is None or source not in self.endpoints:
            self.lost += 1
            return
        self.delivered += 1
        protocol.datagramReceived(data, source)


def sim_address(index: int) -> Address:
    return (f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}", 14441)


@attrs.define
class LookupFigures:
    lookups: int
    found: int
    hops: list[int]
    latencies: list[float]

    @property
    def success_rate(self) -> float:
        return self.found / self.lookups if self.lookups else 0.0

    def to_json(self) -> dict[str, Any]:
        hops = sorted(self.hops) or [0]
        latencies = sorted(self.latencies) or [0.0]
        return {
            "lookups": self.lookups,
            "found": self.found,
            "success_rate": round(self.success_rate, 4),
            "median_hops": statistics.median(hops),
            "p99_hops": hops[min(len(hops) - 1, int(0.99 * len(hops)))],
            "median_latency_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_latency_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 1),
        }


class Simulation:
    """``size`` nodes joined one after another through ``seeds`` chained seed nodes."""

    def __init__(self, size: int, *, seed: int = 1, seeds: int = 3, settings: DhtSettings | None = None) -> None:
        self.size = size
        self.seed = seed
        self.clock = SimClock()
        self.rng = random.Random(seed)
        self.network = SimNetwork(self.clock, random.Random(seed + 1))
        self.settings = settings or DhtSettings(rpc_timeout=2.0)
        self.seed_count = seeds
        self.nodes: list[DhtNode] = []
        self.addresses: dict[bytes, Address] = {}
        self.dead: set[int] = set()

    def add_node(self) -> DhtNode:
        index = len(self.nodes)
        node = DhtNode(clock=self.clock, rng=random.Random(self.seed * 1_000_003 + index), settings=self.settings)  # type: ignore[arg-type]
        address = sim_address(index)
        self.network.listen(node.protocol, address)
        self.nodes.append(node)
        self.addresses[node.node_id] = address
        node.layers[0].attached = True
        seeds = [sim_address(i) for i in range(min(index, self.seed_count))]
        node.join(seeds)
        if seeds:
            self.clock.run_until(lambda: node.layers[0].joined or node.bootstrap_state == "retrying")
        return node

    def build(self) -> Simulation:
        while len(self.nodes) < self.size:
            self.add_node()
        return self

    def alive(self) -> list[int]:
        return [i for i in range(len(self.nodes)) if i not in self.dead]

    def kill(self, fraction: float) -> list[int]:
        """Kill ``fraction`` of the live nodes at random, without telling anybody."""
        alive = self.alive()
        victims = self.rng.sample(alive, int(len(alive) * fraction))
        for index in victims:
            self.network.kill(sim_address(index))
            self.dead.add(index)
        return victims

    def store(self, count: int, layer: int = 0) -> list[str]:
        keys = []
        for number in range(count):
            key = f"sim-key-{self.seed}-{number}"
            publisher = self.nodes[self.rng.choice(self.alive())]
            value = canonical_json({"data": f"value {number}", "type": "skip_validation"})
            outcome = self.clock.wait(publisher.set_value(key, value, layer, ttl=24 * 3600))
            if outcome.stored_on:
                keys.append(key)
        return keys

    def get(self, keys: list[str], layer: int = 0) -> LookupFigures:
        figures = LookupFigures(lookups=0, found=0, hops=[], latencies=[])
        for key in keys:
            reader = self.nodes[self.rng.choice(self.alive())]
            reader.store.delete(layer, key)  # answer from the network, not from our own copy
            started = self.clock.seconds()
            result = self.clock.wait(reader.get_value(key, layer))
            figures.lookups += 1
            if result.value is not None:
                figures.found += 1
                figures.hops.append(result.hops)
                figures.latencies.append(self.clock.seconds() - started)
        return figures

    def find_nodes(self, count: int, layer: int = 0) -> LookupFigures:
        """Lookups of random ids; success: the live node nearest to the id is among those found."""
        figures = LookupFigures(lookups=0, found=0, hops=[], latencies=[])
        alive_ids = [self.nodes[i].node_id for i in self.alive()]
        for _ in range(count):
            target = self.rng.getrandbits(160).to_bytes(20, "big")
            reader = self.nodes[self.rng.choice(self.alive())]
            started = self.clock.seconds()
            result = self.clock.wait(reader.find_node(target, layer))
            nearest = min((i for i in alive_ids if i != reader.node_id), key=lambda i: distance(i, target))
            figures.lookups += 1
            if any(c.node_id == nearest for c in result.closest):
                figures.found += 1
                figures.hops.append(result.hops)
                figures.latencies.append(self.clock.seconds() - started)
        return figures

    def contact_of(self, index: int) -> Contact:
        host, port = sim_address(index)
        return Contact(self.nodes[index].node_id, host, port)

    def holders(self, key: str, layer: int = 0) -> list[int]:
        return [i for i in self.alive() if self.nodes[i].store.get(layer, key, self.clock.seconds()) is not None]

    def nearest(self, key: str, count: int) -> list[int]:
        target = key_hash(key)
        return sorted(self.alive(), key=lambda i: distance(self.nodes[i].node_id, target))[:count]
