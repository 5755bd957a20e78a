"""``python -m bitdust.bench dht``: Kademlia lookups on 50, 200 and 1000 simulated nodes.

Everything runs in this process on the in-memory datagram network of ``bitdust.dht.simulation``
(real protocol code, real msgpack datagrams, simulated 5-50 ms latencies), so the figures are
the cost of our code, not of a network: lookups per second of wall-clock time, hops and simulated
latency per lookup, and the memory one simulated node takes (tracemalloc, while the network
is built). ``--quick`` uses 20 and 50 nodes.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from typing import Any

from rich.console import Console
from rich.table import Table

from bitdust.bench.registry import Benchmark
from bitdust.dht.simulation import Simulation

SIZES = (50, 200, 1000)
QUICK_SIZES = (20, 50)
SEED = 42


def _progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


def measure(size: int, lookups: int) -> dict[str, Any]:
    """Build a ``size``-node network, store ``lookups`` values, then look each up from a random node."""
    tracemalloc.start()
    started = time.perf_counter()
    sim = Simulation(size, seed=SEED).build()
    build_s = time.perf_counter() - started
    _current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    keys = sim.store(lookups)
    started = time.perf_counter()
    values = sim.get(keys)
    value_s = time.perf_counter() - started
    started = time.perf_counter()
    nodes = sim.find_nodes(lookups)
    node_s = time.perf_counter() - started
    sim.kill(0.2)
    after = sim.get(keys)
    return {
        "nodes": size,
        "build_s": round(build_s, 2),
        "memory_per_node_kb": round(_current / size / 1024, 1),
        "value_lookups": values.to_json() | {"per_s": round(values.lookups / value_s, 1)},
        "node_lookups": nodes.to_json() | {"per_s": round(nodes.lookups / node_s, 1)},
        "after_20pct_killed": after.to_json(),
    }


def run(quick: bool = False) -> dict[str, Any]:
    figures: dict[str, Any] = {"benchmark": "dht", "quick": quick, "k": 8, "alpha": 3, "seed": SEED, "networks": []}
    for size in QUICK_SIZES if quick else SIZES:
        _progress(f"{size} simulated nodes")
        figures["networks"].append(measure(size, 50 if quick else 200))
    return figures


def render(figures: dict[str, Any]) -> None:
    networks = figures["networks"]
    title = "DHT benchmark" + (" (quick)" if figures["quick"] else "") + f", k={figures['k']} alpha={figures['alpha']}"
    table = Table(title=title)
    table.add_column("figure")
    for net in networks:
        table.add_column(f"{net['nodes']} nodes", justify="right")

    def row(label: str, cell: Any) -> None:
        table.add_row(label, *(cell(net) for net in networks))

    row("value lookups/s", lambda n: f"{n['value_lookups']['per_s']}")
    row("node lookups/s", lambda n: f"{n['node_lookups']['per_s']}")
    row("values found", lambda n: f"{n['value_lookups']['success_rate']:.1%}")
    row("nearest node found", lambda n: f"{n['node_lookups']['success_rate']:.1%}")
    row("value hops median/p99", lambda n: f"{n['value_lookups']['median_hops']}/{n['value_lookups']['p99_hops']}")
    row("node hops median/p99", lambda n: f"{n['node_lookups']['median_hops']}/{n['node_lookups']['p99_hops']}")
    row(
        "value latency ms median/p99",
        lambda n: f"{n['value_lookups']['median_latency_ms']}/{n['value_lookups']['p99_latency_ms']}",
    )
    row("values found, 20% killed", lambda n: f"{n['after_20pct_killed']['success_rate']:.1%}")
    row("KiB per node", lambda n: f"{n['memory_per_node_kb']}")
    row("build s", lambda n: f"{n['build_s']}")
    Console().print(table)


BENCHMARK = Benchmark(
    name="dht",
    description="Kademlia lookups per second, hops and latency on 50/200/1000 simulated nodes, memory per node",
    run=run,
    render=render,
)
