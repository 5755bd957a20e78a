"""The ``api`` benchmark: engine start time, ``process_health`` latency and throughput, idle memory.

Everything runs on loopback against real processes: the engine in a temporary home folder, started
exactly as ``bitdust start`` starts it, and a bare twisted.web server as the baseline measured in the
same run with the same client, so the figures come with a ratio that says what the API layer costs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

from bitdust.bench.httpload import latency_run, throughput_run
from bitdust.bench.registry import Benchmark
from bitdust.bench.stats import latency_summary_ms, median, times_text
from bitdust.interface.client import ApiClient, EngineNotRunning
from bitdust.main.process.api_secret import read_secret
from bitdust.main.process.paths import HomePaths
from bitdust.sandbox.ports import free_ports

HEALTH_PATH = "/process/health/v1"
START_DEADLINE = 60.0
STOP_DEADLINE = 30.0
TARGETS = {"start_s": 1.5, "p50_ms": 2.0, "rps": 2000, "idle_rss_mb": 80}


@attrs.frozen
class Settings:
    starts: int = 3
    warmup: int = 200
    requests: int = 2000
    clients: int = 4
    duration: float = 3.0
    idle_wait: float = 2.0


FULL = Settings()
QUICK = Settings(starts=1, warmup=20, requests=200, clients=2, duration=0.5, idle_wait=0.5)


def _progress(text: str) -> None:
    print(f"bench api: {text}", file=sys.stderr, flush=True)


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` from ``/proc/<pid>/status`` (VmRSS), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Engine:
    """One engine process on a home folder, started like ``bitdust start`` does."""

    def __init__(self, home: Path, rest_port: int, ws_port: int) -> None:
        self.home = home
        self.rest_port = rest_port
        self.ws_port = ws_port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Launch and return the seconds until the first healthy ``process_health`` answer."""
        log_path = self.home / "logs" / "stdout.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bitdust", "run", "--basedir", str(self.home), "--quiet"]
        command += ["--rest-port", str(self.rest_port), "--ws-port", str(self.ws_port)]
        began = time.perf_counter()
        with open(log_path, "ab") as out, open(os.devnull, "rb") as devnull:
            self.process = subprocess.Popen(
                command, stdin=devnull, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = began + START_DEADLINE
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-10:]
                raise RuntimeError("the engine exited during start:\n  " + "\n  ".join(tail))
            if self.healthy():
                return time.perf_counter() - began
            time.sleep(0.002)
        raise RuntimeError(f"the engine did not answer process_health within {START_DEADLINE:g} s")

    def healthy(self) -> bool:
        secret = read_secret(HomePaths(self.home).api_secret)
        if not secret:
            return False
        try:
            with ApiClient(self.home, port=self.rest_port, secret=secret, timeout=2) as client:
                status, envelope = client.request("GET", HEALTH_PATH)
        except (EngineNotRunning, OSError):
            return False
        return status == 200 and envelope.get("status") == "OK"

    @property
    def secret(self) -> str:
        secret = read_secret(HomePaths(self.home).api_secret)
        assert secret
        return secret

    def stop(self) -> None:
        """``process_stop`` through the API, then SIGTERM, then SIGKILL; returns once the process is gone."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            with ApiClient(self.home, port=self.rest_port, timeout=5) as client:
                client.request("GET", "process/stop/v1")
        except (EngineNotRunning, OSError):
            process.terminate()
        for escalate in (process.terminate, process.kill, None):
            try:
                process.wait(timeout=STOP_DEADLINE)
                return
            except subprocess.TimeoutExpired:
                if escalate is None:
                    raise RuntimeError(f"engine pid {process.pid} did not stop") from None
                escalate()


class Baseline:
    """The bare twisted.web server in its own process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bitdust.bench.baseline_server"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip():
            self.stop()
            raise RuntimeError("the baseline server did not start")
        self.port = int(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _load(port: int, headers: dict[str, str], settings: Settings, label: str) -> dict[str, Any]:
    _progress(f"{label}: latency over {settings.requests} sequential requests")
    latency = latency_summary_ms(latency_run(port, HEALTH_PATH, headers, settings.requests, settings.warmup))
    figures: dict[str, Any] = {"latency_ms": latency}
    for processes in (True, False):
        mode = "processes" if processes else "threads"
        _progress(f"{label}: {settings.clients} concurrent clients ({mode}) for {settings.duration:g} s")
        figures[f"throughput_{mode}"] = throughput_run(
            port, HEALTH_PATH, headers, settings.clients, settings.duration, processes=processes
        )
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    settings = QUICK if quick else FULL
    figures: dict[str, Any] = {"benchmark": "api", "quick": quick, "cpus": os.cpu_count(), "targets": TARGETS}
    with tempfile.TemporaryDirectory(prefix="bitdust-bench-api-") as temp:
        rest_port, ws_port = free_ports(2)
        engine = Engine(Path(temp) / "home", rest_port, ws_port)
        baseline: Baseline | None = None
        try:
            starts = []
            for number in range(1, settings.starts + 1):
                if number > 1:
                    engine.stop()
                _progress(f"start {number}/{settings.starts}")
                starts.append(round(engine.start(), 4))
            figures["start_s"] = {"median": round(median(starts), 4), "runs": starts, "first_run_creates_home": True}
            time.sleep(settings.idle_wait)  # let the engine settle before calling it idle
            assert engine.process is not None
            figures["idle_rss_mb"] = rss_mb(engine.process.pid)
            figures["engine"] = _load(engine.rest_port, {"api_secret": engine.secret}, settings, "engine")
            figures["rss_after_load_mb"] = rss_mb(engine.process.pid)
            baseline = Baseline()
            figures["baseline"] = _load(baseline.port, {}, settings, "baseline")
        finally:
            engine.stop()
            if baseline is not None:
                baseline.stop()
    figures["ratio"] = _ratios(figures)
    return figures


def _ratios(figures: dict[str, Any]) -> dict[str, float | None]:
    engine, baseline = figures["engine"], figures["baseline"]

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 2) if b else None

    return {
        "latency_p50": ratio(engine["latency_ms"]["p50"], baseline["latency_ms"]["p50"]),
        "latency_p99": ratio(engine["latency_ms"]["p99"], baseline["latency_ms"]["p99"]),
        "latency_mean": ratio(engine["latency_ms"]["mean"], baseline["latency_ms"]["mean"]),
        "rps_processes": ratio(engine["throughput_processes"]["rps"], baseline["throughput_processes"]["rps"]),
        "rps_threads": ratio(engine["throughput_threads"]["rps"], baseline["throughput_threads"]["rps"]),
    }


def render(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    engine, baseline, ratios = figures["engine"], figures["baseline"], figures["ratio"]
    clients = engine["throughput_processes"]["clients"]
    quick = ", quick" if figures["quick"] else ""
    table = Table(title=f"api benchmark ({figures['cpus']} CPUs{quick}; baseline: bare twisted.web)")
    for column in ("figure", "engine", "baseline", "ratio", "target"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    runs = ", ".join(f"{s:.3f}" for s in figures["start_s"]["runs"])
    table.add_row("start, median", f"{figures['start_s']['median']:.3f} s", "", "", "< 1.5 s")
    table.add_row("start, each run", runs, "", "", "")
    for key in ("p50", "p99", "mean", "max"):
        table.add_row(
            f"latency {key}",
            f"{engine['latency_ms'][key]:.3f} ms",
            f"{baseline['latency_ms'][key]:.3f} ms",
            times_text(ratios.get(f"latency_{key}")),
            "< 2 ms" if key == "p50" else "",
        )
    for mode in ("processes", "threads"):
        table.add_row(
            f"req/s, {mode}",
            f"{engine[f'throughput_{mode}']['rps']:.0f}",
            f"{baseline[f'throughput_{mode}']['rps']:.0f}",
            times_text(ratios.get(f"rps_{mode}")),
            "> 2000" if mode == "processes" else "",
        )
    table.add_row("idle RSS", f"{figures['idle_rss_mb']} MB", "", "", "< 80 MB")
    table.add_row("RSS after load", f"{figures['rss_after_load_mb']} MB", "", "", "")
    table.caption = (
        f"start: launch of `bitdust run` to the first healthy process_health (the first run creates the home); "
        f"latency: {engine['latency_ms']['requests']} sequential process_health calls on one keep-alive "
        f"connection; req/s: {clients} concurrent keep-alive clients for "
        f"{engine['throughput_processes']['duration_s']:g} s; RSS: VmRSS. Targets are for reference only."
    )
    Console().print(table)


BENCHMARK = Benchmark(
    name="api",
    description="engine start time, process_health latency and throughput over keep-alive, idle RSS",
    run=run,
    render=render,
)
