"""``python -m bitdust.bench peer_flood``: its quick run reports every figure, and the figures hold."""

from __future__ import annotations

from bitdust.bench import peer_flood
from bitdust.bench.registry import benchmarks


def test_quick_run_reports_every_figure_and_no_lockout(capsys) -> None:
    figures = peer_flood.run(quick=True)
    guard, no_handler = figures["replay_guard"], figures["no_handler"]
    assert guard["flood_packets"] == peer_flood.FLOODERS * peer_flood.PER_FLOODER // 10
    assert guard["honest_refused_during"] == "0/20" and guard["honest_refused_for_s_after"] == 0
    assert 0 < guard["guard_entries"] <= guard["flood_packets"] + 20
    assert guard["future_skew_s"] == 60.0
    assert no_handler["signed_answers_sent"] == 20 and no_handler["signed_answers_to_replays"] == 0
    assert no_handler["node_ms_per_packet"] > 0 and no_handler["sender_ms_per_packet"] > 0
    peer_flood.render(figures)
    assert "peer flood: replay guard" in capsys.readouterr().out
    assert benchmarks()["peer_flood"] is peer_flood.BENCHMARK
