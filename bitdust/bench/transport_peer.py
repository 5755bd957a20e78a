"""The child processes of the ``transport`` benchmark: ``python -m bitdust.bench.transport_peer MODE ...``.

Each mode is one process with its own reactor, so every figure (speed, CPU time, peak memory) belongs
to one side of a loopback connection only:

* ``bulk-recv`` / ``bulk-send``: a bulk transfer, ``--impl plain`` (bare Twisted: a byte-counting
  Protocol and a 64 KiB pull producer), ``ours`` (``TcpTransport`` on both sides, 4 MiB packets sent
  as flow-controlled streams) or ``signed`` (as ``ours``, but each packet is a signed ``Data`` packet
  that the receiver decodes and verifies);
* ``echo`` / ``relay`` / ``pingpong``: the plain-Twisted baseline of the ping-pong figure. ``echo``
  answers every length-prefixed request with a fixed answer; ``relay`` is a bare twisted.web server
  that turns each GET into one request/answer with ``echo`` (the same hops as a ``user_ping`` call:
  HTTP in, TCP to the peer and back, HTTP out); ``pingpong`` drives ``echo`` directly from Twisted.

A listening mode prints ``{"port": N}`` as its first stdout line; every mode that finishes prints one
JSON line of figures and exits. Everything listens and connects on 127.0.0.1 only, and every mode has
a deadline after which it gives up and exits non-zero, so no child outlives a broken run.
"""

from __future__ import annotations

import argparse
import sys

from bitdust.bench.transport_peer_bulk import bulk_recv, bulk_send
from bitdust.bench.transport_peer_pingpong import echo, pingpong, relay
from bitdust.bench.transport_peer_process import CHUNK, SOURCE_SIZE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bitdust.bench.transport_peer")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up (exit 1) after this many seconds")
    modes = parser.add_subparsers(dest="mode", required=True)
    recv = modes.add_parser("bulk-recv")
    recv.add_argument("--impl", choices=("plain", "ours", "signed"), required=True)
    recv.add_argument("--total", type=int, required=True, help="payload bytes to expect before finishing")
    recv.add_argument("--key", help="the sender's key (PEM) for --impl signed")
    recv.add_argument("--profile", help="write cProfile stats of the receiver to this file")
    send = modes.add_parser("bulk-send")
    send.add_argument("--impl", choices=("plain", "ours", "signed"), required=True)
    send.add_argument("--port", type=int, required=True)
    send.add_argument("--total", type=int, required=True)
    send.add_argument("--packet", type=int, default=SOURCE_SIZE, help="packet size (a multiple of 64 KiB)")
    send.add_argument("--key", help="the signing key (PEM) for --impl signed")
    echo_mode = modes.add_parser("echo")
    echo_mode.add_argument("--answer", type=int, default=400)
    relay_mode = modes.add_parser("relay")
    relay_mode.add_argument("--echo-port", type=int, required=True)
    relay_mode.add_argument("--request", type=int, default=1600)
    ping = modes.add_parser("pingpong")
    ping.add_argument("--port", type=int, required=True)
    ping.add_argument("--request", type=int, default=1600)
    ping.add_argument("--clients", type=int, default=4)
    ping.add_argument("--duration", type=float, default=3.0)
    args = parser.parse_args(argv)
    if args.mode in ("bulk-recv", "bulk-send") and args.impl == "signed" and not args.key:
        parser.error("--impl signed needs --key")
    if args.mode == "bulk-send" and (args.packet % CHUNK or not 0 < args.packet <= SOURCE_SIZE):
        parser.error(f"--packet must be a multiple of {CHUNK} up to {SOURCE_SIZE}")
    # Every peer process gets the engine's allocator settings, the plain baseline too, so the
    # comparison is between transports and not between allocators.
    from bitdust.main.process.malloc_tuning import tune_malloc

    tune_malloc()
    handler = {"bulk-recv": bulk_recv, "bulk-send": bulk_send, "echo": echo, "relay": relay, "pingpong": pingpong}
    return handler[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
