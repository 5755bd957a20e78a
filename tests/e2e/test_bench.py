"""``python -m bitdust.bench api --json`` runs end to end and leaves nothing running."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def _bench_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "bitdust-bench-api-" in line or "bitdust.bench.baseline" in line]


def test_api_benchmark_prints_one_json_object_of_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bitdust.bench", "api", "--json", "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["benchmark"] == "api"
    assert len(figures["start_s"]["runs"]) == 1 and figures["start_s"]["median"] > 0
    for side in ("engine", "baseline"):
        assert figures[side]["latency_ms"]["p50"] > 0
        assert figures[side]["throughput_processes"]["rps"] > 0
        assert figures[side]["throughput_threads"]["rps"] > 0
        assert figures[side]["throughput_processes"]["errors"] == 0
    assert figures["idle_rss_mb"] > 0
    assert set(figures["ratio"]) >= {"latency_p50", "rps_processes"}
    assert _bench_processes() == []


def test_an_unknown_benchmark_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "bitdust.bench", "nope"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "api" in done.stderr
