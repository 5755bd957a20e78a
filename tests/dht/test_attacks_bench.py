"""``python -m bitdust.bench dht-attacks --quick``: the figures of the defended node."""

from __future__ import annotations

from bitdust.bench import dht_attacks
from bitdust.bench.registry import benchmarks


def test_quick_run_reports_bounded_figures(capsys) -> None:
    figures = dht_attacks.run(quick=True)
    handover = figures["handover"]
    assert handover["bystander_received_bytes"] <= 3 * handover["spoofed_pings_bytes"] + 600
    assert handover["attacker_received_bytes"] < 80_000  # 64 KiB of values per host an hour, and the pings
    flood = figures["store_flood"]
    assert flood["kept"] < flood["stores_sent"] and flood["longest_lifetime_kept_h"] <= 24
    assert flood["honest_stores_on_target"] == "10/10" and flood["honest_pings_answered"] == "20/20"
    full = figures["store_flood_full"]
    assert full["kept"] <= full["max_items"] and full["honest_stores_on_target"] == "10/10"
    assert figures["eclipse"]["attacker_contacts"] <= 8
    dht_attacks.render(figures)
    assert "DHT attacks" in capsys.readouterr().out
    assert benchmarks()["dht-attacks"] is dht_attacks.BENCHMARK
