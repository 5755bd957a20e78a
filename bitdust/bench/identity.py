"""``python -m bitdust.bench identity``: signatures, identity creation, identity server GETs.

Baselines measured in the same run: raw ``cryptography`` RSA-2048 sign/verify next to our
``RsaKey`` wrapper (ratio), and the identity server's GET rate next to the bare twisted.web
server of the api benchmark (ratio).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

from rich.console import Console
from rich.table import Table

from bitdust.bench.api import Baseline, Engine
from bitdust.bench.httpload import throughput_run
from bitdust.bench.registry import Benchmark
from bitdust.bench.stats import median
from bitdust.crypt import bench as crypt_bench
from bitdust.interface.client import ApiClient
from bitdust.sandbox.ports import free_ports


class _IdServer(TypedDict):
    """One identity server as the network config file lists it."""

    host: str
    http_port: int
    name: str


def _progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


def _write_option(home: Path, key: str, value: str) -> None:
    path = home / "config" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")


def _id_server(root: Path, name: str) -> tuple[Engine, int]:
    home = root / name
    rest, ws, web = free_ports(3)
    _write_option(home, "services/identity-server/enabled", "true")
    _write_option(home, "services/identity-server/web-port", str(web))
    engine = Engine(home, rest, ws)
    engine.start()
    return engine, web


def run(quick: bool = False) -> dict[str, Any]:
    seconds = 0.5 if quick else 2.0
    figures: dict[str, Any] = {"benchmark": "identity", "quick": quick, "cpus": os.cpu_count()}
    _progress("RSA-2048 sign/verify and AES-GCM through bitdust.crypt vs raw cryptography")
    figures["crypt"] = crypt_bench.run(seconds)
    engines: list[Engine] = []
    baseline = None
    with tempfile.TemporaryDirectory(prefix="bitdust-bench-identity-") as temp:
        root = Path(temp)
        try:
            servers: list[_IdServer] = []
            for name in ("id-a", "id-b"):
                engine, web = _id_server(root, name)
                engines.append(engine)
                servers.append({"host": "127.0.0.1", "http_port": web, "name": name})
            creations = []
            for attempt in range(1 if quick else 3):
                home = root / f"user-{attempt}"
                (home / "metadata").mkdir(parents=True)
                (home / "metadata" / "networkconfig.json").write_text(json.dumps({"identity-servers": servers}))
                rest, ws = free_ports(2)
                node = Engine(home, rest, ws)
                node.start()
                engines.append(node)
                _progress(f"identity_create on 2 identity servers ({attempt + 1})")
                began = time.perf_counter()
                with ApiClient(home, port=rest, timeout=120) as client:
                    status, envelope = client.request("POST", "identity/create/v1", {"username": f"user-{attempt}"})
                creations.append(time.perf_counter() - began)
                if status != 200:
                    raise RuntimeError(f"identity_create failed: {envelope.get('errors')}")
            figures["identity_create_s"] = {
                "median": round(median(creations), 3),
                "runs": [round(c, 3) for c in creations],
            }
            duration = 0.5 if quick else 3.0
            path = "/user-0.xml"
            _progress(f"identity server GET {path}: 4 keep-alive clients for {duration:g} s")
            figures["id_server_get"] = throughput_run(servers[0]["http_port"], path, {}, 4, duration, processes=True)
            baseline = Baseline()
            _progress("baseline: bare twisted.web server, same load")
            figures["baseline_get"] = throughput_run(
                baseline.port, "/process/health/v1", {}, 4, duration, processes=True
            )
        finally:
            if baseline is not None:
                baseline.stop()
            for engine in reversed(engines):
                engine.stop()
    base = figures["baseline_get"]["rps"]
    figures["id_server_get_ratio"] = round(figures["id_server_get"]["rps"] / base, 3) if base else None
    return figures


def render(figures: dict[str, Any]) -> None:
    crypt = figures["crypt"]
    table = Table(title="identity benchmark" + (" (quick)" if figures["quick"] else ""))
    table.add_column("figure")
    table.add_column("ours", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("ratio", justify="right")
    for group in ("rsa_2048", "aes_256_gcm"):
        for figure, value in crypt[group].items():
            if figure.endswith("_per_s") and f"{figure}_raw" in crypt[group]:
                table.add_row(
                    f"{group} {figure}",
                    f"{value}",
                    f"{crypt[group][figure + '_raw']}",
                    f"{crypt[group][figure + '_ratio']}",
                )
    table.add_row("identity_create (s, median)", f"{figures['identity_create_s']['median']}", "", "")
    table.add_row(
        "identity server GET req/s",
        f"{figures['id_server_get']['rps']}",
        f"{figures['baseline_get']['rps']}",
        f"{figures['id_server_get_ratio']}",
    )
    Console().print(table)


BENCHMARK = Benchmark(
    name="identity",
    description="RSA sign/verify vs raw cryptography, identity creation time, identity server GET/s",
    run=run,
    render=render,
)
