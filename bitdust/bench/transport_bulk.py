"""The bulk part of the ``transport`` benchmark: one sender and one receiver process per transfer.

Modes are interleaved over the repeats, so a noisy moment of the machine hits every mode alike;
the figure of a mode is the median of its runs, and ``ours`` is compared with ``plain`` against
the issue's goal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bitdust.bench.stats import median
from bitdust.bench.transport_common import GOAL, MIB, MODES, PACKET, Child, Settings, progress


def bulk_once(impl: str, total: int, folder: Path, key: Path | None, timeout: float) -> dict[str, Any]:
    """One transfer of ``total`` bytes with ``impl``: ``{"receiver": {...}, "sender": {...}}``."""
    extra = ["--key", str(key)] if impl == "signed" and key is not None else []
    receiver = Child(["bulk-recv", "--impl", impl, "--total", str(total), *extra], folder, f"recv-{impl}", timeout)
    sender = None
    try:
        port = receiver.first_line()["port"]
        send_args = ["bulk-send", "--impl", impl, "--port", str(port), "--total", str(total)]
        sender = Child([*send_args, "--packet", str(PACKET), *extra], folder, f"send-{impl}", timeout)
        sent = sender.result(timeout)
        received = receiver.result(timeout)
    finally:
        for child in (sender, receiver):
            if child is not None:
                child.stop()
    if received["bytes"] != total or received["bad_packets"]:
        raise RuntimeError(f"bulk {impl}: received {received['bytes']} of {total} bytes, {received['bad_packets']} bad")
    return {"receiver": received, "sender": sent}


def bulk(settings: Settings, folder: Path) -> dict[str, Any]:
    from bitdust.crypt.rsa_key import RsaKey

    total = settings.bulk_mib * MIB
    key = folder / "sender-key.pem"
    key.write_text(RsaKey.generate(2048).private_text())
    key.chmod(0o600)
    timeout = 60.0 + total / MIB  # even at 1 MiB/s a broken run ends
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for repeat in range(settings.repeats):
        for mode in MODES:  # interleaved, so a noisy moment hits every mode alike
            progress(f"bulk {settings.bulk_mib} MiB, {mode} ({repeat + 1}/{settings.repeats})")
            runs[mode].append(bulk_once(mode, total, folder, key, timeout))
    figures: dict[str, Any] = {"size_mib": settings.bulk_mib, "packet_mib": PACKET // MIB, "repeats": settings.repeats}
    for mode, results in runs.items():
        speeds = [r["receiver"]["mib_s"] for r in results]
        figures[mode] = {
            "mib_s": round(median(speeds), 1),
            "runs_mib_s": speeds,
            "receiver_cpu_s": round(median([r["receiver"]["cpu_s"] for r in results]), 3),
            "sender_cpu_s": round(median([r["sender"]["cpu_s"] for r in results]), 3),
            "sender_peak_rss_mib": max(r["sender"]["peak_rss_mib"] for r in results),
            "sender_rss_before_mib": max(r["sender"]["rss_before_mib"] or 0 for r in results),
            "receiver_peak_rss_mib": max(r["receiver"]["peak_rss_mib"] for r in results),
            "packets": results[0]["receiver"]["packets"],
        }
    base = figures["plain"]["mib_s"]
    for mode in ("ours", "signed"):
        figures[mode]["ratio"] = round(figures[mode]["mib_s"] / base, 3) if base else None
    ratio = figures["ours"]["ratio"]
    figures["goal"] = {"ratio_at_least": GOAL, "ratio": ratio, "met": ratio is not None and ratio >= GOAL}
    return figures
