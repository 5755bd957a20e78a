"""``python -m bitdust.bench network_start``: start and stop a 10-node network inside one process.

What :func:`bitdust.testing.network.start_network` costs a test: two identity servers, one DHT
seed and ten nodes, each a full Engine on its own loopback ports, each node creating an identity
(1024-bit key, as tests use) registered on both identity servers and joining the network; then
the whole network stopped. Issue 12 asks for under 3 s to start; the figures say where the time
goes (homes written, servers up, nodes up, identities), and one start with 2048-bit keys (the
default) shows what the key size costs.

The reactor cannot be started twice in one process, and ``bench all`` runs other benchmarks in
this process, so each measured round runs in a child Python process of its own (its own fresh
reactor); the child prints its figures as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bitdust.bench.registry import Benchmark
from bitdust.bench.stats import median

NODES = 10
ID_SERVERS = 2
DHT_SEEDS = 1
TARGET_S = 3.0
CHILD_TIMEOUT = 300.0
PHASES = ("homes", "servers", "nodes", "identities")


def _progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


def measure_child(nodes: int, key_size: int) -> dict[str, Any]:
    """In this process (a fresh one, whose reactor has never run): start, ping once, stop.

    Seconds of each phase of the start, of the whole start and of the stop.
    """
    from twisted.internet import defer
    from twisted.internet import reactor as default_reactor
    from twisted.python.failure import Failure

    from bitdust.testing.network import start_network

    reactor: Any = default_reactor
    figures: dict[str, Any] = {"nodes": nodes, "key_size": key_size}

    @defer.inlineCallbacks
    def measure(temp: Path) -> Any:
        marks: list[tuple[str, float]] = []
        began = time.perf_counter()
        net = yield start_network(
            temp,
            nodes=nodes,
            id_servers=ID_SERVERS,
            dht_seeds=DHT_SEEDS,
            key_size=key_size,
            reactor=reactor,
            on_phase=lambda name: marks.append((name, time.perf_counter())),
        )
        figures["start_s"] = round(time.perf_counter() - began, 4)
        previous = began
        for name, at in marks:
            figures[f"{name}_s"] = round(at - previous, 4)
            previous = at
        try:
            code, _body = yield net.nodes[0].api("user_ping", user_id=net.nodes[-1].global_id, timeout=10)
            figures["ping_ok"] = code == 200
        finally:
            stopping = time.perf_counter()
            yield net.stop()
            figures["stop_s"] = round(time.perf_counter() - stopping, 4)

    outcome: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="bitdust-bench-network-") as temp:

        def begin() -> None:
            d = measure(Path(temp))
            d.addBoth(outcome.append)
            d.addBoth(lambda _: reactor.stop())

        reactor.callWhenRunning(begin)
        reactor.run()
    if not outcome:
        raise RuntimeError("the reactor stopped before the measurement ended")
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    return figures


def _child(nodes: int, key_size: int) -> dict[str, Any]:
    """One measured round in a child process (its own reactor); its last stdout line is the JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "bitdust.bench.network_start", str(nodes), str(key_size)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the network benchmark child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 1 if quick else 3
    figures: dict[str, Any] = {
        "benchmark": "network_start",
        "quick": quick,
        "cpus": os.cpu_count(),
        "nodes": NODES,
        "id_servers": ID_SERVERS,
        "dht_seeds": DHT_SEEDS,
        "target_s": TARGET_S,
        "rounds": [],
    }
    for number in range(rounds):
        _progress(f"{NODES} nodes with 1024-bit keys, round {number + 1} of {rounds}")
        figures["rounds"].append(_child(NODES, 1024))
    figures["median_start_s"] = round(median([r["start_s"] for r in figures["rounds"]]), 4)
    figures["median_stop_s"] = round(median([r["stop_s"] for r in figures["rounds"]]), 4)
    if not quick:
        _progress(f"{NODES} nodes with 2048-bit keys (the default), once")
        figures["default_keys"] = _child(NODES, 2048)
    return figures


def render(figures: dict[str, Any]) -> None:
    title = (
        f"In-process network: {figures['nodes']} nodes, {figures['id_servers']} identity servers, "
        f"{figures['dht_seeds']} DHT seed" + (" (quick)" if figures["quick"] else "")
    )
    table = Table(title=title)
    table.add_column("run")
    for name in (*PHASES, "start", "stop"):
        table.add_column(f"{name} s", justify="right")
    table.add_column("ping")
    runs = [(f"1024-bit, round {i + 1}", r) for i, r in enumerate(figures["rounds"])]
    if "default_keys" in figures:
        runs.append(("2048-bit keys", figures["default_keys"]))
    for label, r in runs:
        cells = [f"{r.get(f'{name}_s', 0):.3f}" for name in (*PHASES, "start", "stop")]
        table.add_row(label, *cells, "ok" if r.get("ping_ok") else "FAILED")
    Console().print(table)
    Console().print(
        f"median start {figures['median_start_s']:.3f} s (target under {figures['target_s']:g} s), "
        f"median stop {figures['median_stop_s']:.3f} s"
    )


BENCHMARK = Benchmark(
    name="network_start",
    description="start and stop a 10-node network (identity servers, DHT seed, identities) inside one process",
    run=run,
    render=render,
)


if __name__ == "__main__":
    # the child of _child: ``python -m bitdust.bench.network_start NODES KEY_SIZE``
    print(json.dumps(measure_child(int(sys.argv[1]), int(sys.argv[2]))), flush=True)
