"""``python -m bitdust.bench dht-attacks``: what a hostile peer gets out of a DHT node.

Each attack of issue 11 is mounted on the in-memory datagram network of
:mod:`bitdust.dht.simulation` by a raw endpoint that writes its own msgpack datagrams (it is not a
:class:`~bitdust.dht.node.DhtNode`, so it can lie about its id and its source address, and it plays
along with whatever round trip the target asks for: it answers pings and echoes tokens). The
figures are bytes, items and contacts, not wall-clock time, so they are the same on every machine:

* ``handover``: pings announcing new ids next to the target's own; bytes the attacker is sent per
  byte it sent, and bytes a bystander is sent when the pings carry its address as their source;
* ``store_flood``: 5,000 STOREs of 8 KB with 30-day lifetimes from one host on 10 source ports in
  3 simulated seconds; items kept, database size, memory, and whether honest stores still work;
* ``eclipse``: 500 made-up ids from one host (500 ports); routing-table contacts before and after;
* ``honest_pings``: pings between two honest nodes, and to the target, while the flood runs.

The module only uses what every version of the DHT code has, so the same file measures the code
before a fix and after it.
"""

from __future__ import annotations

import random
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import msgpack
from rich.console import Console
from rich.table import Table

from bitdust.bench.registry import Benchmark
from bitdust.dht.messages import RequestArgs
from bitdust.dht.node import DhtNode
from bitdust.dht.records import canonical_json
from bitdust.dht.settings import DhtSettings
from bitdust.dht.simulation import SimClock, SimNetwork, sim_address
from bitdust.dht.store import DhtStore, SqliteBackend

SEED = 11
TARGET = 10  #: a node that joined through others (the first node of a network never "joins")
ATTACKER_HOST = "10.66.0.1"
BYSTANDER = ("10.77.0.1", 14441)


def _progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


class RawPeer:
    """A hostile endpoint: sends hand-made datagrams, answers pings, keeps the tokens it is given."""

    def __init__(self, network: SimNetwork, address: tuple[str, int], node_id: bytes, answers: bool = True) -> None:
        self.network = network
        self.answers = answers
        self.address = address
        self.node_id = node_id
        self.received = 0
        self.sent = 0
        self.replies: list[dict[str, Any]] = []
        self.tokens: dict[tuple[str, int], bytes] = {}
        self._rpc = 0
        network.listen(self, address)

    def makeConnection(self, transport: Any) -> None:  # noqa: N802 - what SimNetwork calls
        self.transport = transport

    def datagramReceived(self, data: bytes, addr: Any) -> None:  # noqa: N802
        self.received += len(data)
        body = msgpack.unpackb(data, raw=False)
        if isinstance(body.get("tk"), bytes):
            self.tokens[tuple(addr)] = body["tk"]
        if body.get("y") == "q":
            if body.get("m") == "ping" and self.answers:
                answer = {"v": 1, "y": "r", "l": body["l"], "id": body["id"], "s": self.node_id, "at": True, "r": {}}
                if isinstance(body.get("tk"), bytes):
                    answer["tk"] = body["tk"]  # (a token a node hands out comes back to it in our requests)
                self._write(answer, tuple(addr))
            return
        self.replies.append(body)

    def _write(self, body: dict[str, Any], target: tuple[str, int], source: tuple[str, int] | None = None) -> None:
        data = msgpack.packb(body, use_bin_type=True)
        self.sent += len(data)
        self.network.deliver(source or self.address, target, data)

    def request(
        self,
        target: tuple[str, int],
        method: str,
        args: dict[str, Any],
        *,
        sender: bytes | None = None,
        source: tuple[str, int] | None = None,
    ) -> None:
        self._rpc += 1
        body = {
            "v": 1,
            "y": "q",
            "l": 0,
            "id": self._rpc.to_bytes(8, "big"),
            "s": sender or self.node_id,
            "at": True,
            "m": method,
            "a": args,
        }
        token = self.tokens.get(target)
        if token is not None:
            body["tk"] = token
        self._write(body, target, source)


def _network(size: int, settings: DhtSettings, store: DhtStore | None = None) -> tuple[SimClock, SimNetwork, list]:
    clock = SimClock()
    network = SimNetwork(clock, random.Random(SEED))
    nodes: list[DhtNode] = []
    for index in range(size):
        node = DhtNode(
            clock=clock,  # type: ignore[arg-type]
            rng=random.Random(SEED * 7919 + index),
            settings=settings,
            store=store if index == TARGET else None,
        )
        network.listen(node.protocol, sim_address(index))
        node.layers[0].attached = True
        node.join([sim_address(i) for i in range(min(index, 2))])
        nodes.append(node)
        _settle(clock, 10)
    return clock, network, nodes


def _settle(clock: SimClock, seconds: float) -> None:
    end = clock.now + seconds
    while clock._heap and clock._heap[0].time <= end:
        clock.step()
    clock.now = max(clock.now, end)


def _value(number: int, size: int = 0) -> bytes:
    record = {"type": "skip_validation", "data": f"value {number}"}
    if size:
        record["pad"] = "x" * (size - len(canonical_json(record)) - 9)
    return canonical_json(record)


def handover(pings: int = 50) -> dict[str, Any]:
    """Pings announcing a new id next to the target's own, from the attacker and 'from' a bystander."""
    settings = DhtSettings(rpc_timeout=2.0)
    clock, network, nodes = _network(30, settings)
    for number in range(300):
        publisher = nodes[number % len(nodes)]
        publisher.set_value(f"handover-{number}", _value(number, 4000), ttl=3600)
        _settle(clock, 1)
    target = nodes[TARGET]
    held = target.store.count(0)
    attacker = RawPeer(network, (ATTACKER_HOST, 5000), b"a" * 20)
    bystander = RawPeer(network, BYSTANDER, b"b" * 20, answers=False)  # a host that runs no DHT node
    close = bytearray(target.node_id)
    for number in range(pings):
        close[-1] ^= number + 1
        attacker.request(sim_address(TARGET), "ping", {}, sender=bytes(close))
        _settle(clock, 5)
    attacked = {"sent": attacker.sent, "received": attacker.received}
    for number in range(pings):
        close[-2] ^= number + 1
        attacker.request(sim_address(TARGET), "ping", {}, sender=bytes(close), source=BYSTANDER)
        _settle(clock, 5)
    spoofed_sent = attacker.sent - attacked["sent"]
    return {
        "values_held_by_target": held,
        "pings": pings,
        "attacker_sent_bytes": attacked["sent"],
        "attacker_received_bytes": attacked["received"],
        "attacker_factor": round(attacked["received"] / max(1, attacked["sent"]), 1),
        "spoofed_pings_bytes": spoofed_sent,
        "bystander_received_bytes": bystander.received,
        "bystander_factor": round(bystander.received / max(1, spoofed_sent), 1),
    }


def store_flood(
    count: int = 5000, hosts: int = 1, ports: int = 10, seconds: float = 3.0, max_items: int = 50_000
) -> dict[str, Any]:
    """STOREs of 8 KB for 30 days from ``hosts`` hosts on ``ports`` ports each, honest stores and pings meanwhile.

    A ``max_items`` below ``count`` shows what a full store does to honest stores.
    """
    settings = DhtSettings(rpc_timeout=2.0, max_items=max_items)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dht.sqlite"
        store = DhtStore(backend=SqliteBackend(path), max_items=settings.max_items)
        clock, network, nodes = _network(12, settings, store)
        target = nodes[TARGET]
        db_before = _db_size(path)
        attackers = [
            RawPeer(network, (f"10.66.{host}.1", 6000 + port), random.Random(host * 1000 + port).randbytes(20))
            for host in range(hosts)
            for port in range(ports)
        ]
        for attacker in attackers:  # a round trip first: whatever token the target hands out, it has it
            attacker.request(sim_address(TARGET), "ping", {})
        _settle(clock, 1)
        tracemalloc.start()
        memory_before = tracemalloc.get_traced_memory()[0]
        honest: dict[str, int] = {"stores": 0, "stored": 0, "pings": 0, "answered": 0}
        step = seconds / count
        for number in range(count):
            attacker = attackers[number % len(attackers)]
            args = {"k": f"flood-{number}", "v": _value(number, 8000), "t": "skip_validation", "ttl": 30 * 24 * 3600}
            attacker.request(sim_address(TARGET), "store", dict(args, p=attacker.node_id))
            if number % (count // 10) == 0:
                _honest_round(clock, nodes, honest, number)
            _settle(clock, step)
        _settle(clock, 10)
        memory_after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        refused: dict[str, int] = {}
        for attacker in attackers:
            for reply in attacker.replies:
                if reply.get("y") == "e":
                    refused[reply.get("e", "?")] = refused.get(reply.get("e", "?"), 0) + 1
        flood = [item for item in target.store.items(0) if item.key.startswith("flood-")]
        kept = len(flood)
        store.close()
        return {
            "max_items": max_items,
            "stores_sent": count,
            "hosts": hosts,
            "source_ports": ports,
            "longest_lifetime_kept_h": round(max((i.expires_at - i.stored_at for i in flood), default=0) / 3600, 1),
            "seconds": seconds,
            "kept": kept,
            "refused": refused,
            "db_bytes_before": db_before,
            "db_bytes_after": _db_size(path),
            "store_memory_mb": round((memory_after - memory_before) / 1e6, 1),
            "store_full_in_s": round(max_items / (kept / seconds), 1) if kept else None,
            "honest_stores_on_target": f"{honest['stored']}/{honest['stores']}",
            "honest_pings_answered": f"{honest['answered']}/{honest['pings']}",
        }


def _honest_round(clock: SimClock, nodes: list[DhtNode], tally: dict[str, int], number: int) -> None:
    """An honest node stores on the target (directly) and pings between two honest nodes and the target."""
    honest = nodes[5]
    stored: list[Any] = []
    pinged: list[Any] = []
    args: RequestArgs = {
        "k": f"honest-{number}",
        "v": _value(number),
        "t": "skip_validation",
        "ttl": 3600,
        "p": honest.node_id,
    }
    honest.protocol.request(sim_address(TARGET), 0, "store", args).addBoth(stored.append)
    for address in (sim_address(7), sim_address(TARGET)):
        honest.protocol.request(address, 0, "ping", {}).addBoth(pinged.append)
    _settle(clock, 3)
    tally["stores"] += 1
    tally["stored"] += int(nodes[TARGET].store.get(0, args["k"], clock.now) is not None)
    tally["pings"] += 2
    tally["answered"] += sum(1 for outcome in pinged if not hasattr(outcome, "raiseException"))


def _db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def eclipse(ids: int = 500) -> dict[str, Any]:
    """Made-up ids from one host (one port each), every one answering the target's pings."""
    settings = DhtSettings(rpc_timeout=2.0)
    clock, network, nodes = _network(30, settings)
    target = nodes[TARGET]
    before = len(target.layers[0].table)
    rng = random.Random(SEED)
    for number in range(ids):
        peer = RawPeer(network, (ATTACKER_HOST, 7000 + number), rng.randbytes(20))
        peer.request(sim_address(TARGET), "ping", {})
        if number % 50 == 0:
            _settle(clock, 3)
    _settle(clock, 10)
    after = len(target.layers[0].table)
    from_attacker = sum(1 for c in target.layers[0].table.contacts() if c.host == ATTACKER_HOST)
    return {"fake_ids": ids, "contacts_before": before, "contacts_after": after, "attacker_contacts": from_attacker}


def run(quick: bool = False) -> dict[str, Any]:
    figures: dict[str, Any] = {"benchmark": "dht-attacks", "quick": quick, "seed": SEED}
    _progress("hand-over amplification and reflection")
    figures["handover"] = handover()
    _progress("store flood")
    figures["store_flood"] = store_flood(1000 if quick else 5000)
    _progress("store flood from 20 hosts against a store of 2,000 items")
    figures["store_flood_full"] = store_flood(
        1000 if quick else 5000, hosts=20, ports=1, max_items=500 if quick else 2000
    )
    _progress("eclipse")
    figures["eclipse"] = eclipse(100 if quick else 500)
    return figures


def render(figures: dict[str, Any]) -> None:
    table = Table(title="DHT attacks" + (" (quick)" if figures["quick"] else ""))
    table.add_column("attack")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for attack in ("handover", "store_flood", "store_flood_full", "eclipse"):
        for name, value in figures[attack].items():
            table.add_row(attack, name, str(value))
    Console().print(table)


BENCHMARK = Benchmark(
    name="dht-attacks",
    description="hand-over amplification, store flood and eclipse mounted on a simulated DHT: bytes, items, contacts",
    run=run,
    render=render,
)
