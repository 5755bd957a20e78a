"""Unfinished-stream flood against one TcpTransport: how much memory do strangers make it hold?

``python bitdust/bench/stream_flood.py [--connections 8] [--streams 4] [--seconds 20]``

The target is a TcpTransport with its defaults, listening on 127.0.0.1 in this process; the attacker
is a child process with plain sockets (so its own buffers are not in our figures). Each attacking
connection sends the hello, then opens ``--streams`` streams announced as the biggest packet allowed
and sends all of each but its last byte, never an END. Printed: this process's RSS before and at its
peak, the peak of the bytes the transport held for unfinished frames and streams, and how many of
the attacking connections were still open at the end. Run it with ``PYTHONPATH`` pointing at another
checkout to measure that code (it only uses what both sides have). Figures are printed, not judged.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

ATTACKER = r"""
import socket, sys, time
from bitdust.transport.tcp import frames
port, conns, streams, seconds, total = (int(a) for a in sys.argv[1:6])
chunk = b"a" * frames.MAX_CHUNK
deadline = time.monotonic() + seconds
socks = []
for _ in range(conns):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(1.0)
    s.sendall(frames.encode_hello())
    socks.append(s)
def plan():
    for s in socks:
        for sid in range(1, streams + 1):
            yield s, frames.encode_frame(frames.FrameType.STREAM_START, sid, frames.STREAM_TOTAL.pack(total))
            left = total - 1
            while left > 0:
                piece = chunk[: min(len(chunk), left)]
                yield s, frames.encode_frame(frames.FrameType.STREAM_CHUNK, sid, piece)
                left -= len(piece)
stuck = set()
for s, blob in plan():
    if time.monotonic() > deadline:
        break
    if s in stuck:
        continue
    try:
        s.sendall(blob)
    except (TimeoutError, OSError):
        stuck.add(s)  # the target stopped reading this one (or dropped it)
print("sent", flush=True)
sys.stdin.read()
"""


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def held_bytes(transport: Any) -> int:
    """Bytes the transport holds for unfinished frames and streams (works on old and new code)."""
    budget = getattr(transport, "receive_budget", None)
    if budget is not None:
        return budget.held
    held = 0
    for conn in transport.connections:
        held += conn.decoder.buffered
        for assembly in conn._assemblies.values():
            held += sum(len(c) for c in assembly.chunks)
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    from twisted.internet import reactor, task

    from bitdust.p2p.packet import DEFAULT_LIMITS
    from bitdust.transport.tcp.connections import TcpTransport

    transport = TcpTransport(reactor, on_packet=lambda data, conn: None, max_packet=DEFAULT_LIMITS.max_packet)
    figures: dict[str, Any] = {"rss_before": rss_bytes(), "rss_peak": 0, "held_peak": 0}
    state: dict[str, Any] = {}

    def sample() -> None:
        figures["rss_peak"] = max(figures["rss_peak"], rss_bytes())
        figures["held_peak"] = max(figures["held_peak"], held_bytes(transport))

    def finish() -> None:
        sample()
        figures["open_at_end"] = sum(1 for conn in transport.connections if conn.is_open)
        attacker = state["attacker"]
        attacker.stdin.close()
        attacker.wait(timeout=10)
        transport.stop().addBoth(lambda _: reactor.stop())

    def listening(port: int) -> None:
        argv = [str(port), str(args.connections), str(args.streams), str(int(args.seconds))]
        argv.append(str(DEFAULT_LIMITS.max_packet))
        state["attacker"] = subprocess.Popen(
            [sys.executable, "-c", ATTACKER, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        reactor.callLater(args.seconds + 2, finish)

    poller = task.LoopingCall(sample)
    poller.start(0.2)
    transport.listen(0, interface="127.0.0.1").addCallback(listening)
    reactor.run()
    mib = 1024 * 1024
    print(
        json.dumps(
            {
                "connections": args.connections,
                "streams_per_connection": args.streams,
                "rss_before_mib": round(figures["rss_before"] / mib, 1),
                "rss_peak_mib": round(figures["rss_peak"] / mib, 1),
                "held_peak_mib": round(figures["held_peak"] / mib, 2),
                "attacking_connections_open_at_end": figures["open_at_end"],
            }
        )
    )


if __name__ == "__main__":
    main()
