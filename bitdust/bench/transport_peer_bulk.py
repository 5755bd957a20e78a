"""The bulk-transfer modes of ``transport_peer``: ``bulk-recv`` and ``bulk-send``.

``--impl plain`` is bare Twisted (a byte-counting Protocol and a 64 KiB pull producer); ``ours`` is
``TcpTransport`` on both sides, 4 MiB packets sent as flow-controlled streams; ``signed`` is
``ours`` with each packet a signed ``Data`` packet that the receiver decodes and verifies, as the
gateway does.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bitdust.bench.transport_peer_process import (
    CHUNK,
    HOST,
    IN_FLIGHT,
    MIB,
    RECEIVER_IDURL,
    SENDER_IDURL,
    Run,
    cpu_seconds,
    emit,
    minor_faults,
    peak_rss_mib,
    rss_mib,
    source_chunks,
)

if TYPE_CHECKING:
    from twisted.internet.interfaces import IConnector
    from twisted.python.failure import Failure

    from bitdust.transport.tcp.connections import TcpConnection


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

            def connectionLost(self, reason: Failure | None = None) -> None:  # noqa: N802 (Twisted API)
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

        def on_packet(data: bytes, conn: TcpConnection) -> None:
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


def _verifier(key_path: str) -> Callable[[bytes], int | None]:
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
    from twisted.internet.interfaces import IConsumer, IPullProducer
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
            IConsumer(self.transport).registerProducer(self.producer, False)

        def connectionLost(self, reason: Failure | None = None) -> None:  # noqa: N802 (Twisted API)
            sent = self.producer.sent if self.producer else 0
            if sent < total:
                run.fail(f"connection lost after {sent} of {total} bytes")
                return
            emit(marks.result("plain", sent))
            run.stop()

    class Connector(ClientFactory):
        protocol = Sender

        def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:  # noqa: N802 (Twisted API)
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

    def sent(_: object) -> None:
        state["in_flight"] -= 1
        state["done"] += 1
        if state["done"] == count:
            tcp.stop().addCallback(finished)
        else:
            pump()

    def finished(_: object) -> None:
        emit(marks.result(args.impl, state["bytes"]))
        run.stop()

    def failed(failure: Failure) -> None:
        run.fail(f"send failed: {failure.getErrorMessage()}")

    def start() -> None:
        marks.begin()
        pump()

    run.reactor.callWhenRunning(start)


def _signer(key_path: str, payload: bytes) -> Callable[[int], bytes]:
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
