"""``python -m bitdust.bench transport``: ping-pong between two engines, bulk transfer through the TCP transport.

Two parts, each next to a plain-Twisted baseline measured in the same run on the same loopback:

* **ping-pong**: a sandbox of two engines (and two identity servers); client threads call alice's
  ``user_ping`` for bob again and again. One ping is an Identity packet signed by alice and an Ack
  signed by bob, each verified on arrival: two packets. The baseline is a bare twisted.web server
  that, for each GET, sends a request of the Identity packet's size over TCP to a second process
  answering with the Ack's size: the same hops (HTTP in, TCP there and back, HTTP out) without the
  packet layer. The same client threads measure both. A raw Twisted request/answer rate between the
  two baseline processes (no HTTP) is printed for reference.
* **bulk**: 256 MiB (``--quick``: 32 MiB) from a sender process to a receiver process. ``plain`` is
  bare Twisted (a byte-counting Protocol, a 64 KiB pull producer); ``ours`` is ``TcpTransport`` on
  both sides with 4 MiB packets, each sent as a flow-controlled stream, at most two in flight;
  ``signed`` is ``ours`` with every packet a signed ``Data`` packet that the receiver decodes and
  verifies, which is what bulk data costs through the packet layer. The receiver times from the
  accepted connection to the last byte; the sender reports its own peak RSS (``VmHWM``).

Goal of the issue: ``ours`` at 70 % of ``plain`` or better. The check is printed, never asserted.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from bitdust.bench.registry import Benchmark
from bitdust.bench.transport_bulk import bulk, bulk_once
from bitdust.bench.transport_common import (
    DEFAULT_ANSWER,
    DEFAULT_REQUEST,
    FULL,
    GOAL,
    MIB,
    MODES,
    PACKET,
    PEER,
    PING_TIMEOUT,
    QUICK,
    Child,
    Settings,
)
from bitdust.bench.transport_pings import baseline_pings, engine_pings, pings
from bitdust.bench.transport_render import render

__all__ = [
    "BENCHMARK",
    "DEFAULT_ANSWER",
    "DEFAULT_REQUEST",
    "FULL",
    "GOAL",
    "MIB",
    "MODES",
    "PACKET",
    "PEER",
    "PING_TIMEOUT",
    "QUICK",
    "Child",
    "Settings",
    "baseline_pings",
    "bulk",
    "bulk_once",
    "engine_pings",
    "pings",
    "render",
    "run",
]


def run(quick: bool = False) -> dict[str, Any]:
    settings = QUICK if quick else FULL
    figures: dict[str, Any] = {"benchmark": "transport", "quick": quick, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bitdust-bench-transport-") as temp:
        folder = Path(temp)
        # bulk first, while no engine runs: the transfers get the machine to themselves
        figures["bulk"] = bulk(settings, folder)
        figures["ping"] = pings(settings, folder)
    return figures


BENCHMARK = Benchmark(
    name="transport",
    description="user_ping packets/s between two engines, bulk MiB/s through the TCP transport vs bare Twisted",
    run=run,
    render=render,
)
