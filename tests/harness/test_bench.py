"""The network_start benchmark runs and reports every phase (figures are printed, never judged)."""

from __future__ import annotations

from bitdust.bench import network_start
from bitdust.bench.registry import benchmarks


def test_quick_run_reports_each_phase(capsys) -> None:
    figures = network_start.run(quick=True)
    (only,) = figures["rounds"]
    assert only["nodes"] == network_start.NODES and only["key_size"] == 1024 and only["ping_ok"] is True
    phases = [only[f"{name}_s"] for name in network_start.PHASES]
    assert all(seconds >= 0 for seconds in phases) and sum(phases) <= only["start_s"] + 0.01
    assert figures["median_start_s"] == only["start_s"] and only["stop_s"] >= 0
    network_start.render(figures)
    assert "In-process network" in capsys.readouterr().out
    assert benchmarks()["network_start"] is network_start.BENCHMARK
