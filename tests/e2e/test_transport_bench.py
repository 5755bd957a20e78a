"""The ``transport`` benchmark: its quick run reports every figure, its child processes always exit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bitdust.bench import transport
from bitdust.bench.registry import benchmarks
from bitdust.crypt.rsa_key import RsaKey

MIB = 1 << 20


def _peer_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "bitdust.bench.transport_peer" in line]


def test_the_benchmark_is_registered() -> None:
    assert benchmarks()["transport"] is transport.BENCHMARK


@pytest.mark.parametrize("impl", transport.MODES)
def test_a_bulk_transfer_moves_every_byte_and_reports_both_sides(tmp_path: Path, impl: str) -> None:
    key = tmp_path / "key.pem"
    key.write_text(RsaKey.generate(2048).private_text())
    result = transport.bulk_once(impl, 8 * MIB, tmp_path, key, timeout=60)
    receiver, sender = result["receiver"], result["sender"]
    assert receiver["bytes"] == 8 * MIB and receiver["bad_packets"] == 0
    assert receiver["mib_s"] > 0 and receiver["seconds"] > 0
    assert receiver["packets"] == (0 if impl == "plain" else 2)
    assert sender["bytes"] >= 8 * MIB
    assert sender["peak_rss_mib"] >= sender["rss_before_mib"] > 0
    assert _peer_processes() == []


def test_a_receiver_that_gets_nothing_gives_up_at_its_deadline(tmp_path: Path) -> None:
    child = transport.Child(["bulk-recv", "--impl", "ours", "--total", "1000"], tmp_path, "lonely", timeout=1)
    try:
        assert child.first_line()["port"] > 0
        with pytest.raises(RuntimeError, match="exited with code 1"):
            child.result(timeout=30)
    finally:
        child.stop()
    assert child.process.returncode == 1
    assert "timed out" in (tmp_path / "lonely.stderr").read_text()


def _assert_the_goal_is_computed_from_the_figures(bulk: dict) -> None:
    """Not a speed target (a loaded machine may miss it): the verdict must follow from the figures."""
    base = bulk["plain"]["mib_s"]
    assert base > 0
    for mode in ("ours", "signed"):
        assert bulk[mode]["ratio"] == round(bulk[mode]["mib_s"] / base, 3) > 0
    goal = bulk["goal"]
    assert goal["ratio_at_least"] == transport.GOAL
    assert goal["ratio"] == bulk["ours"]["ratio"]
    assert goal["met"] is (goal["ratio"] >= transport.GOAL)


@pytest.mark.parametrize(("ours_mib_s", "met"), [(80.0, True), (70.0, True), (69.0, False), (10.0, False)])
def test_the_bulk_figures_and_verdict_come_from_the_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ours_mib_s: float, met: bool
) -> None:
    """The bulk summary over recorded runs (no processes): medians, ratios, and a verdict that can fail."""
    speeds = {"plain": [100.0, 90.0, 110.0], "ours": [ours_mib_s] * 3, "signed": [50.0, 40.0, 60.0]}
    calls: list[str] = []

    def recorded(impl: str, total: int, folder: Path, key: Path, timeout: float) -> dict:
        calls.append(impl)
        speed = speeds[impl][calls.count(impl) - 1]
        side = {"cpu_s": 1.0, "peak_rss_mib": 40.0, "rss_before_mib": 30.0, "packets": 2, "mib_s": speed}
        return {"receiver": dict(side), "sender": dict(side)}

    monkeypatch.setattr(transport, "bulk_once", recorded)
    figures = transport.bulk(transport.Settings(bulk_mib=1, repeats=3), tmp_path)
    assert calls == list(transport.MODES) * 3  # interleaved
    assert figures["plain"]["mib_s"] == 100.0 and figures["signed"]["mib_s"] == 50.0
    assert figures["ours"]["ratio"] == round(ours_mib_s / 100.0, 3)
    assert figures["signed"]["ratio"] == 0.5
    assert figures["goal"]["met"] is met
    _assert_the_goal_is_computed_from_the_figures(figures)


@pytest.mark.e2e
def test_the_quick_run_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    figures = transport.BENCHMARK.run(True)
    assert figures["benchmark"] == "transport" and figures["quick"] is True

    bulk = figures["bulk"]
    assert bulk["size_mib"] == transport.QUICK.bulk_mib
    for mode in transport.MODES:
        row = bulk[mode]
        assert row["mib_s"] > 0
        assert row["sender_peak_rss_mib"] > 0
        assert row["receiver_cpu_s"] >= 0
    _assert_the_goal_is_computed_from_the_figures(bulk)

    ping = figures["ping"]
    assert ping["packet_bytes"]["identity"] > ping["packet_bytes"]["ack"] > 0
    for clients in transport.QUICK.clients:
        key = f"clients_{clients}"
        for side in ("engines", "baseline"):
            load = ping[side][key]
            assert load["pings_s"] > 0 and load["errors"] == 0, load
            assert 0 < load["client_ms"]["p50"] <= load["client_ms"]["p99"]
            assert 0 < load["rtt_ms"]["p50"] <= load["rtt_ms"]["p99"]
        assert ping["ratio"][key]["pings_s"] > 0
    assert ping["baseline"]["raw_twisted"]["rps"] > 0
    assert _peer_processes() == []

    transport.BENCHMARK.render(figures)
    printed = capsys.readouterr().out
    assert "user_ping" in printed and ("PASS" in printed or "MISS" in printed)
