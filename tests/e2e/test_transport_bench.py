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
    assert bulk["ours"]["ratio"] > 0 and bulk["signed"]["ratio"] > 0
    assert bulk["goal"]["met"] in (True, False)

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
