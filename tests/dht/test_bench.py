from __future__ import annotations

import json
import subprocess
import sys

from bitdust.bench import dht
from bitdust.bench.registry import benchmarks


def test_quick_run_reports_every_figure(capsys) -> None:
    figures = dht.run(quick=True)
    assert [net["nodes"] for net in figures["networks"]] == list(dht.QUICK_SIZES)
    for net in figures["networks"]:
        for group in ("value_lookups", "node_lookups"):
            assert net[group]["per_s"] > 0 and net[group]["success_rate"] >= 0.9
            assert 1 <= net[group]["median_hops"] <= net[group]["p99_hops"]
        assert net["memory_per_node_kb"] > 0
    dht.render(figures)
    assert "DHT benchmark" in capsys.readouterr().out
    assert benchmarks()["dht"] is dht.BENCHMARK


def test_the_command_line_prints_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bitdust.bench", "dht", "--quick", "--json"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["benchmark"] == "dht"
