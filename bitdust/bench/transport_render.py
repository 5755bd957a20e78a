"""The tables of the ``transport`` benchmark: ping-pong figures, then bulk figures, each with its baseline."""

from __future__ import annotations

from typing import Any

from bitdust.bench.stats import times_text
from bitdust.bench.transport_common import MODES


def render(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    quick = ", quick" if figures["quick"] else ""
    ping = figures["ping"]
    sizes = ping["packet_bytes"]
    table = Table(title=f"transport: user_ping between two engines ({figures['cpus']} CPUs{quick})")
    for column in ("figure", "clients", "engines", "baseline", "ratio"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for key, ours in ping["engines"].items():
        base, ratio, clients = ping["baseline"][key], ping["ratio"][key], str(ping["engines"][key]["clients"])
        table.add_row(
            "pings/s", clients, f"{ours['pings_s']:.1f}", f"{base['pings_s']:.1f}", times_text(ratio["pings_s"])
        )
        table.add_row("packets/s", clients, f"{2 * ours['pings_s']:.1f}", "", "")
        for point in ("p50", "p99"):
            table.add_row(
                f"client round trip {point}",
                clients,
                _ms(ours.get("client_ms", {}).get(point)),
                _ms(base.get("client_ms", {}).get(point)),
                times_text(ratio[f"client_{point}"]),
            )
        for point in ("p50", "p99"):
            table.add_row(
                f"rtt in the API {point}",
                clients,
                _ms(ours.get("rtt_ms", {}).get(point)),
                _ms(base.get("rtt_ms", {}).get(point)),
                "",
            )
        cpu = [f"{ours[k]:.2f}" if k in ours else "?" for k in ("alice_cpu_ms_per_ping", "bob_cpu_ms_per_ping")]
        table.add_row("CPU ms/ping alice/bob", clients, " / ".join(cpu), "", "", end_section=True)
        if ours["errors"] or base["errors"]:
            table.add_row("errors", clients, f"{ours['errors']}", f"{base['errors']}", "")
    raw = ping["baseline"]["raw_twisted"]
    table.add_row("raw Twisted req/s", str(raw["clients"]), "", f"{raw['rps']:.0f}", "")
    table.add_row("raw Twisted p50", str(raw["clients"]), "", f"{raw['p50_ms']:.3f} ms", "")
    table.caption = (
        f"one ping = Identity ({sizes['identity']} B) signed by alice + Ack ({sizes['ack']} B) signed by bob, both "
        "verified. Baseline: bare twisted.web relaying the same sizes over TCP to an echo process, same client "
        "threads; raw: the same request/answer straight from Twisted, no HTTP. Ratio = engines / baseline."
    )
    console.print(table)

    bulk_figures = figures["bulk"]
    table = Table(
        title=f"transport: bulk {bulk_figures['size_mib']} MiB over loopback (median of {bulk_figures['repeats']}"
        f"{quick})"
    )
    for column in ("mode", "MiB/s", "ratio", "sender RSS peak", "at start", "CPU s send/recv"):
        table.add_column(column, justify="left" if column == "mode" else "right", no_wrap=column == "mode")
    labels = {"plain": "plain Twisted", "ours": "TcpTransport", "signed": "TcpTransport+sign"}
    for mode in MODES:
        row = bulk_figures[mode]
        table.add_row(
            labels[mode],
            f"{row['mib_s']:.1f}",
            times_text(row.get("ratio")) if mode != "plain" else "1.00x",
            f"{row['sender_peak_rss_mib']:.1f} MiB",
            f"{row['sender_rss_before_mib']:.1f} MiB",
            f"{row['sender_cpu_s']:.2f} / {row['receiver_cpu_s']:.2f}",
        )
    goal = bulk_figures["goal"]
    verdict = "[green]PASS[/green]" if goal["met"] else "[red]MISS[/red]"
    table.caption = (
        f"goal: TcpTransport >= {goal['ratio_at_least']:.0%} of plain Twisted: {verdict} ({times_text(goal['ratio'])}). "
        f"Separate sender and receiver processes; {bulk_figures['packet_mib']} MiB packets, each a stream, "
        "at most 2 in flight; MiB/s at the receiver from the accepted connection to the last byte; RSS = the "
        "sender's VmHWM; +sign = signed Data packets, decoded and verified by the receiver."
    )
    console.print(table)
    runs = "; ".join(f"{labels[m]} " + " ".join(f"{v:.0f}" for v in bulk_figures[m]["runs_mib_s"]) for m in MODES)
    console.print(f"each run, MiB/s: {runs}")


def _ms(value: float | None) -> str:
    return f"{value:.3f} ms" if value is not None else ""
