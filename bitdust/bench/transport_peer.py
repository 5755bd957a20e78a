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
import json
import os
import resource
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
MIB = 1 << 20
CHUNK = 64 * 1024
SOURCE_SIZE = 4 * MIB
SENDER_IDURL = "http://127.0.0.1:1/sender.xml"
RECEIVER_IDURL = "http://127.0.0.1:1/receiver.xml"
IN_FLIGHT = 2


def peak_rss_mib() -> float:
    """This process's peak RSS. ``ru_maxrss`` survives ``exec`` on Linux (the forked parent's pages
    count), so the per-address-space ``VmHWM`` is preferred where /proc has it."""
    value = _status_kib("VmHWM")
    if value is None:
        value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(value / 1024, 1)


def rss_mib() -> float | None:
    value = _status_kib("VmRSS")
    return round(value / 1024, 1) if value is not None else None


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def minor_faults() -> int:
    """Page faults served without I/O so far: each is a fresh page of memory touched for the first time."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 3)


def emit(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


def source_chunks() -> list[bytes]:
    """One pre-built 4 MiB buffer, as 64 KiB pieces that every transfer reuses (no per-byte allocation)."""
    source = os.urandom(SOURCE_SIZE)
    return [source[offset : offset + CHUNK] for offset in range(0, SOURCE_SIZE, CHUNK)]


class Run:
    """The reactor of one mode, its deadline and its exit code."""

    def __init__(self, timeout: float) -> None:
        from twisted.internet import reactor

        self.reactor: Any = reactor
        self.code = 0
        self.deadline = reactor.callLater(timeout, self.fail, f"timed out after {timeout:g} s")

    def fail(self, why: str) -> None:
        print(f"transport_peer: {why}", file=sys.stderr, flush=True)
        self.code = 1
        self.stop()

    def stop(self) -> None:
        if self.deadline.active():
            self.deadline.cancel()
        if self.reactor.running:
            self.reactor.stop()

    def run(self) -> int:
        self.reactor.run()
        return self.code


def _listen_port(port: Any) -> int:
    number = port.getHost().port
    emit({"port": number})
    return number


# -- bulk: receivers ------------------------------------------------------------------------------


class BulkResult:
    def __init__(self, impl: str, total: int) -> None:
        self.impl = impl
        self.total = total
        self.received = 0
        self.packets = 0
        self.bad = 0
        self.started: float | None = None
        self.cpu_at_start = 0.0
        self.faults_at_start = 0

    def listening(self, port: int) -> None:
        # CPU is counted from here: the process does nothing else between listening and the transfer.
        self.cpu_at_start = cpu_seconds()
        self.faults_at_start = minor_faults()
        emit({"port": port})

    def begin(self, when: float) -> None:
        if self.started is None:
            self.started = when

    def to_json(self) -> dict[str, Any]:
        assert self.started is not None
        seconds = time.time() - self.started
        return {
            "side": "receiver",
            "impl": self.impl,
            "bytes": self.received,
            "packets": self.packets,
            "bad_packets": self.bad,
            "seconds": round(seconds, 4),
            "mib_s": round(self.received / MIB / seconds, 1) if seconds > 0 else None,
            "cpu_s": round(cpu_seconds() - self.cpu_at_start, 3),
            "page_faults": minor_faults() - self.faults_at_start,
            "peak_rss_mib": peak_rss_mib(),
        }


def bulk_recv(args: argparse.Namespace) -> int:
    run = Run(args.timeout)
    result = BulkResult(args.impl, args.total)

    def finish() -> None:
        emit(result.to_json())
        run.stop()

    if args.impl == "plain":
        from twisted.internet.protocol import Factory, Protocol

        class Counter(Protocol):
            def connectionMade(self) -> None:  # noqa: N802 (Twisted API)
                result.begin(time.time())

            def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted API)
                result.received += len(data)
                if result.received >= result.total:
                    finish()

            def connectionLost(self, reason: Any = None) -> None:  # noqa: N802 (Twisted API)
                if result.received < result.total:
                    run.fail(f"connection lost after {result.received} of {result.total} bytes")

        port = run.reactor.listenTCP(0, Factory.forProtocol(Counter), interface=HOST)
        result.listening(port.getHost().port)
    else:
        from bitdust.p2p.packet import DEFAULT_LIMITS
        from bitdust.transport.tcp import frames
        from bitdust.transport.tcp.budget import BudgetLimits
        from bitdust.transport.tcp.connections import TcpTransport

        check = _verifier(args.key) if args.impl == "signed" else None

        def on_packet(data: bytes, conn: Any) -> None:
            # The connection's own clock reading at accept time: the same start as ``plain``'s connectionMade.
            result.begin(conn.started)
            result.packets += 1
            if check is None:
                result.received += len(data)
            else:
                size = check(data)
                if size is None:
                    result.bad += 1  # reported, and the parent counts the run as failed
                    finish()
                    return
                result.received += size
            if result.received >= result.total:
                finish()

        # The sender has no identity to prove, so it stays a stranger: measured with a peer's budget.
        per_peer = DEFAULT_LIMITS.max_packet + frames.MAX_BUFFER
        budget = BudgetLimits(per_peer=per_peer, per_stranger=per_peer, strangers_total=4 * per_peer)
        tcp = TcpTransport(
            run.reactor, on_packet=on_packet, max_packet=DEFAULT_LIMITS.max_packet, idle_close=None, budget=budget
        )
        tcp.listen(0, interface=HOST).addCallbacks(result.listening, run.fail)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    code = run.run()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    return code


def _verifier(key_path: str) -> Any:
    """decode + signature check of one Data packet, as the gateway does it; the payload size or None."""
    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.p2p.errors import PacketError
    from bitdust.p2p.packet import decode, signing_bytes

    public = RsaKey.from_text(Path(key_path).read_text()).public_key()

    def check(data: bytes) -> int | None:
        try:
            packet = decode(data)
        except PacketError:
            return None
        if not public.verify(packet.signature, signing_bytes(packet)):
            return None
        return len(packet.payload)

    return check


# -- bulk: senders --------------------------------------------------------------------------------


class Marks:
    """When the transfer began and how big the sender was then (everything imported and built)."""

    def __init__(self) -> None:
        self.began = 0.0
        self.rss_before: float | None = None
        self.cpu_before = 0.0
        self.faults_before = 0

    def begin(self) -> None:
        self.rss_before = rss_mib()
        self.cpu_before = cpu_seconds()
        self.faults_before = minor_faults()
        self.began = time.perf_counter()

    def result(self, impl: str, sent: int) -> dict[str, Any]:
        seconds = time.perf_counter() - self.began
        return {
            "side": "sender",
            "impl": impl,
            "bytes": sent,
            "seconds": round(seconds, 4),
            "cpu_s": round(cpu_seconds() - self.cpu_before, 3),
            "page_faults": minor_faults() - self.faults_before,
            "rss_before_mib": self.rss_before,
            "peak_rss_mib": peak_rss_mib(),
        }


def bulk_send(args: argparse.Namespace) -> int:
    run = Run(args.timeout)
    chunks = source_chunks()
    if args.impl == "plain":
        _plain_sender(run, chunks, args, Marks())
    else:
        _transport_sender(run, chunks, args, Marks())
    return run.run()


def _plain_sender(run: Run, chunks: list[bytes], args: argparse.Namespace, marks: Marks) -> None:
    from twisted.internet.interfaces import IPullProducer
    from twisted.internet.protocol import ClientFactory, Protocol
    from zope.interface import implementer

    total = args.total

    @implementer(IPullProducer)
    class Producer:
        def __init__(self, transport: Any) -> None:
            self.transport = transport
            self.sent = 0
            self.index = 0
            self.stopped = False

        def resumeProducing(self) -> None:  # noqa: N802 (Twisted API)
            if self.stopped:
                return
            if self.sent >= total:
                self.stopped = True
                self.transport.unregisterProducer()
                self.transport.loseConnection()
                return
            chunk = chunks[self.index % len(chunks)]
            self.index += 1
            if self.sent + len(chunk) > total:
                chunk = chunk[: total - self.sent]
            self.sent += len(chunk)
            self.transport.write(chunk)

        def stopProducing(self) -> None:  # noqa: N802 (Twisted API)
            self.stopped = True

    class Sender(Protocol):
        producer: Producer | None = None

        def connectionMade(self) -> None:  # noqa: N802 (Twisted API)
            marks.begin()
            self.producer = Producer(self.transport)
            self.transport.registerProducer(self.producer, False)

        def connectionLost(self, reason: Any = None) -> None:  # noqa: N802 (Twisted API)
            sent = self.producer.sent if self.producer else 0
            if sent < total:
                run.fail(f"connection lost after {sent} of {total} bytes")
                return
            emit(marks.result("plain", sent))
            run.stop()

    class Connector(ClientFactory):
        protocol = Sender

        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:  # noqa: N802 (Twisted API)
            run.fail(f"cannot connect: {reason.getErrorMessage()}")

    run.reactor.connectTCP(HOST, args.port, Connector(), timeout=10)


def _transport_sender(run: Run, chunks: list[bytes], args: argparse.Namespace, marks: Marks) -> None:
    from bitdust.p2p.packet import DEFAULT_LIMITS
    from bitdust.transport.tcp.connections import TcpTransport

    payload = b"".join(chunks[: args.packet // CHUNK])
    del chunks[:]
    count = args.total // len(payload)
    contact = f"tcp://{HOST}:{args.port}"
    tcp = TcpTransport(run.reactor, on_packet=lambda data, conn: None, max_packet=DEFAULT_LIMITS.max_packet)
    build = _signer(args.key, payload) if args.impl == "signed" else (lambda number: payload)
    state = {"queued": 0, "done": 0, "in_flight": 0, "bytes": 0}

    def pump() -> None:
        while state["in_flight"] < IN_FLIGHT and state["queued"] < count:
            data = build(state["queued"])
            state["queued"] += 1
            state["in_flight"] += 1
            state["bytes"] += len(data)
            tcp.send(RECEIVER_IDURL, contact, data).addCallbacks(sent, failed)

    def sent(_: Any) -> None:
        state["in_flight"] -= 1
        state["done"] += 1
        if state["done"] == count:
            tcp.stop().addCallback(finished)
        else:
            pump()

    def finished(_: Any) -> None:
        emit(marks.result(args.impl, state["bytes"]))
        run.stop()

    def failed(failure: Any) -> None:
        run.fail(f"send failed: {failure.getErrorMessage()}")

    def start() -> None:
        marks.begin()
        pump()

    run.reactor.callWhenRunning(start)


def _signer(key_path: str, payload: bytes) -> Any:
    """Builds, signs and encodes the ``number``-th Data packet carrying ``payload``."""
    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.p2p import commands
    from bitdust.p2p.packet import Packet, encode, sign

    key = RsaKey.from_text(Path(key_path).read_text())

    def build(number: int) -> bytes:
        packet = Packet(
            command=commands.DATA,
            owner_id=SENDER_IDURL,
            creator_id=SENDER_IDURL,
            packet_id=f"bench-{number}",
            date=time.time(),
            payload=payload,
            remote_id=RECEIVER_IDURL,
        )
        return encode(sign(packet, key))

    return build


# -- ping-pong baseline ---------------------------------------------------------------------------


def echo(args: argparse.Namespace) -> int:
    """Answers each length-prefixed request with ``--answer`` bytes, until SIGTERM (or the deadline)."""
    from twisted.internet.protocol import Factory
    from twisted.protocols.basic import Int32StringReceiver

    run = Run(args.timeout)
    answer = os.urandom(args.answer)

    class Echo(Int32StringReceiver):
        MAX_LENGTH = 1 << 20

        def stringReceived(self, request: bytes) -> None:  # noqa: N802 (Twisted API)
            self.sendString(answer)

    _listen_port(run.reactor.listenTCP(0, Factory.forProtocol(Echo), interface=HOST))
    return run.run()


def _echo_client(run: Run, port: int, on_ready: Any) -> None:
    """Connect to ``echo`` and call ``on_ready(ask)``; ``ask(request)`` returns a Deferred of the answer.

    Requests may be pipelined: ``echo`` answers in order, so answers are matched first in, first out.
    """
    from twisted.internet import defer
    from twisted.internet.protocol import ClientFactory
    from twisted.protocols.basic import Int32StringReceiver

    class Client(Int32StringReceiver):
        MAX_LENGTH = 1 << 20

        def connectionMade(self) -> None:  # noqa: N802 (Twisted API)
            self.transport.setTcpNoDelay(True)
            self.waiting: deque[defer.Deferred[bytes]] = deque()
            on_ready(self.ask)

        def ask(self, request: bytes) -> defer.Deferred[bytes]:
            waiter: defer.Deferred[bytes] = defer.Deferred()
            self.waiting.append(waiter)
            self.sendString(request)
            return waiter

        def stringReceived(self, answer: bytes) -> None:  # noqa: N802 (Twisted API)
            self.waiting.popleft().callback(answer)

        def connectionLost(self, reason: Any = None) -> None:  # noqa: N802 (Twisted API)
            if run.reactor.running:
                run.fail("the connection to echo was lost")

    class Connector(ClientFactory):
        protocol = Client

        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:  # noqa: N802 (Twisted API)
            run.fail(f"cannot connect to echo: {reason.getErrorMessage()}")

    run.reactor.connectTCP(HOST, port, Connector(), timeout=10)


def relay(args: argparse.Namespace) -> int:
    """A bare twisted.web server: each GET is one request/answer with ``echo``, answered as a JSON envelope."""
    from twisted.web import resource, server

    run = Run(args.timeout)
    request_body = os.urandom(args.request)
    link: dict[str, Any] = {}

    class Ping(resource.Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> Any:  # noqa: N802 (twisted.web hook)
            started = run.reactor.seconds()

            def answered(answer: bytes) -> None:
                rtt = run.reactor.seconds() - started
                body = {"status": "OK", "result": {"rtt": round(rtt, 6), "bytes": len(answer)}}
                request.setHeader(b"content-type", b"application/json")
                request.write(json.dumps(body).encode())
                request.finish()

            link["ask"](request_body).addCallback(answered)
            return server.NOT_DONE_YET

    def ready(ask: Any) -> None:
        link["ask"] = ask
        site = server.Site(Ping())
        site.log = lambda request: None  # no access log, as the engine by default
        _listen_port(run.reactor.listenTCP(0, site, interface=HOST))

    _echo_client(run, args.echo_port, ready)
    return run.run()


def pingpong(args: argparse.Namespace) -> int:
    """``--clients`` request/answer loops straight on one Twisted connection to ``echo``."""
    run = Run(args.timeout)
    request_body = os.urandom(args.request)
    samples: list[float] = []
    state = {"end": 0.0, "running": 0, "began": 0.0}

    def loop(ask: Any) -> None:
        started = time.perf_counter()

        def answered(_: bytes) -> None:
            now = time.perf_counter()
            samples.append(now - started)
            if now < state["end"]:
                loop(ask)
                return
            state["running"] -= 1
            if state["running"] == 0:
                seconds = now - state["began"]
                ordered = sorted(samples)
                emit(
                    {
                        "requests": len(samples),
                        "seconds": round(seconds, 4),
                        "rps": round(len(samples) / seconds, 1),
                        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 4),
                        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 4),
                    }
                )
                run.stop()

        ask(request_body).addCallback(answered)

    def ready(ask: Any) -> None:
        state["began"] = time.perf_counter()
        state["end"] = state["began"] + args.duration
        state["running"] = args.clients
        for _ in range(args.clients):
            loop(ask)

    _echo_client(run, args.port, ready)
    return run.run()


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
    from bitdust.main.malloc_tuning import tune_malloc

    tune_malloc()
    handler = {"bulk-recv": bulk_recv, "bulk-send": bulk_send, "echo": echo, "relay": relay, "pingpong": pingpong}
    return handler[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
