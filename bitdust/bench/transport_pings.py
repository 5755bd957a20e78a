"""The ping-pong part of the ``transport`` benchmark: ``user_ping`` between two engines, and its baseline.

Client threads call alice's ``user_ping`` for bob back to back in a sandbox of two engines; the
baseline is a bare twisted.web relay and a TCP echo process exchanging requests and answers of
the same sizes as the engines' Identity and Ack packets, driven by the same client threads.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bitdust.bench.stats import percentile
from bitdust.bench.transport_common import DEFAULT_ANSWER, DEFAULT_REQUEST, PING_TIMEOUT, Child, Settings, progress

if TYPE_CHECKING:
    from bitdust.interface.client import ApiClient
    from bitdust.sandbox.state import NodeRecord


def _load(
    make_client: Callable[[], ApiClient], path: str, params: dict[str, Any], clients: int, seconds: float
) -> dict[str, Any]:
    """``clients`` threads each call ``path`` back to back for ``seconds``; answers must be OK envelopes."""
    client_ms: list[float] = []
    rtt_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1, timeout=60)
    window: dict[str, float] = {}

    def worker() -> None:
        mine_client, mine_rtt, mine_errors = [], [], []
        with make_client() as client:
            barrier.wait()
            end = window["end"]
            while (began := time.perf_counter()) < end:
                try:
                    status, envelope = client.request("GET", path, params)
                except Exception as exc:  # counted, and the loop goes on: a figure, not a crash
                    mine_errors.append(repr(exc))
                    client.close()
                    continue
                took = time.perf_counter() - began
                if status != 200 or envelope.get("status") != "OK":
                    mine_errors.append(str(envelope.get("errors") or status))
                    continue
                mine_client.append(took * 1000)
                mine_rtt.append(float(envelope["result"]["rtt"]) * 1000)
        with lock:
            client_ms.extend(mine_client)
            rtt_ms.extend(mine_rtt)
            errors.extend(mine_errors)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    window["end"] = began + seconds
    barrier.wait()
    for thread in threads:
        thread.join(seconds + PING_TIMEOUT + 30)
    elapsed = time.perf_counter() - began
    count = len(client_ms)
    figures: dict[str, Any] = {
        "clients": clients,
        "seconds": round(elapsed, 3),
        "pings": count,
        "pings_s": round(count / elapsed, 1) if elapsed > 0 else 0.0,
        "errors": len(errors),
    }
    if errors:
        figures["first_error"] = errors[0][:300]
    if count:
        figures["client_ms"] = _summary(client_ms)
        figures["rtt_ms"] = _summary(rtt_ms)
    return figures


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 0.50), 3),
        "p99": round(percentile(samples, 0.99), 3),
        "mean": round(sum(samples) / len(samples), 3),
    }


def _cpu_ticks(pid: int | None) -> int | None:
    """utime + stime of ``pid`` in clock ticks, from /proc."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def engine_pings(settings: Settings, folder: Path) -> dict[str, Any]:
    from bitdust.interface.client import ApiClient
    from bitdust.main.process.api_secret import read_secret
    from bitdust.main.process.paths import HomePaths
    from bitdust.sandbox.network import Sandbox

    sandbox = Sandbox(folder / "sandbox")
    try:
        progress("sandbox: 2 identity servers and 2 nodes")
        sandbox.up(2, id_servers=2, dht_seeds=0)  # pings need no DHT
        alice, bob = [record for record in sandbox.load().nodes if record.role == "node"]
        secrets = {node.name: read_secret(HomePaths(node.home).api_secret) for node in (alice, bob)}

        def client_of(node: NodeRecord, timeout: float = PING_TIMEOUT + 20) -> ApiClient:
            return ApiClient(node.home, port=node.rest_port, secret=secrets[node.name], timeout=timeout)

        for node in (alice, bob):
            with client_of(node, 40) as client:
                status, envelope = client.request("GET", "network/connected/v1", {"wait_timeout": 20})
            if status != 200:
                raise RuntimeError(f"{node.name} is not connected: {envelope.get('errors')}")
        params = {"user_id": bob.extra["global_id"], "timeout": PING_TIMEOUT}
        with client_of(alice) as client:
            for _ in range(settings.warmup_pings):
                status, envelope = client.request("GET", "user/ping/v1", params)
                if status != 200:
                    raise RuntimeError(f"alice cannot ping bob: {envelope.get('errors')}")
        figures: dict[str, Any] = {}
        for clients in settings.clients:
            progress(f"engines: user_ping from {clients} client thread(s) for {settings.ping_seconds:g} s")
            before = {node.name: _cpu_ticks(node.pid) for node in (alice, bob)}
            load = _load(lambda: client_of(alice), "user/ping/v1", params, clients, settings.ping_seconds)
            after = {node.name: _cpu_ticks(node.pid) for node in (alice, bob)}
            if load["pings"]:
                tick = os.sysconf("SC_CLK_TCK")
                for node, role in ((alice, "alice"), (bob, "bob")):
                    ticks_before, ticks_after = before[node.name], after[node.name]
                    if ticks_before is not None and ticks_after is not None:
                        spent = (ticks_after - ticks_before) / tick
                        load[f"{role}_cpu_ms_per_ping"] = round(spent * 1000 / load["pings"], 3)
            figures[f"clients_{clients}"] = load
        with client_of(alice) as client:
            _, envelope = client.request("GET", "packet/stats/v1")
        commands = envelope.get("result", {}).get("commands", {})
        figures["packet_bytes"] = {
            "identity": _mean_size(commands.get("Identity", {}), "out") or DEFAULT_REQUEST,
            "ack": _mean_size(commands.get("Ack", {}), "in") or DEFAULT_ANSWER,
        }
        return figures
    finally:
        if (sandbox.directory / "sandbox.json").exists():
            sandbox.down()


def _mean_size(flow: dict[str, int], direction: str) -> int | None:
    packets = flow.get(f"packets_{direction}") or 0
    return round(flow.get(f"bytes_{direction}", 0) / packets) if packets else None


def baseline_pings(settings: Settings, folder: Path, request: int, answer: int) -> dict[str, Any]:
    from bitdust.interface.client import ApiClient

    timeout = 120 + 4 * settings.ping_seconds * len(settings.clients)
    echo = Child(["echo", "--answer", str(answer)], folder, "echo", timeout)
    relay = None
    try:
        echo_port = echo.first_line()["port"]
        relay = Child(["relay", "--echo-port", str(echo_port), "--request", str(request)], folder, "relay", timeout)
        relay_port = relay.first_line()["port"]
        figures: dict[str, Any] = {}
        for clients in settings.clients:
            progress(f"baseline: bare twisted.web + TCP echo, {clients} client thread(s)")

            def client() -> ApiClient:
                return ApiClient(folder, port=relay_port, secret="unused", timeout=PING_TIMEOUT + 20)

            figures[f"clients_{clients}"] = _load(client, "ping", {}, clients, settings.ping_seconds)
        clients = max(settings.clients)
        progress(f"baseline: raw Twisted request/answer, {clients} in flight, no HTTP")
        raw = Child(
            ["pingpong", "--port", str(echo_port), "--request", str(request), "--clients", str(clients)]
            + ["--duration", f"{settings.ping_seconds:g}"],
            folder,
            "pingpong",
            timeout,
        )
        try:
            figures["raw_twisted"] = raw.result(timeout)
        finally:
            raw.stop()
        figures["raw_twisted"]["clients"] = clients
        return figures
    finally:
        for child in (relay, echo):
            if child is not None:
                child.stop()


def pings(settings: Settings, folder: Path) -> dict[str, Any]:
    engines = engine_pings(settings, folder)
    sizes = engines.pop("packet_bytes")
    baseline = baseline_pings(settings, folder, sizes["identity"], sizes["ack"])
    figures: dict[str, Any] = {"packet_bytes": sizes, "engines": engines, "baseline": baseline, "ratio": {}}
    for key, ours in engines.items():
        base = baseline[key]
        figures["ratio"][key] = {
            "pings_s": round(ours["pings_s"] / base["pings_s"], 3) if base["pings_s"] else None,
            "client_p50": _ratio(ours, base, "client_ms", "p50"),
            "client_p99": _ratio(ours, base, "client_ms", "p99"),
        }
    return figures


def _ratio(ours: dict[str, Any], base: dict[str, Any], group: str, key: str) -> float | None:
    if group not in ours or group not in base or not base[group][key]:
        return None
    return round(ours[group][key] / base[group][key], 2)
