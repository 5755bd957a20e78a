"""The ping-pong baseline modes of ``transport_peer``: ``echo``, ``relay`` and ``pingpong``.

``echo`` answers every length-prefixed request with a fixed answer; ``relay`` is a bare twisted.web
server that turns each GET into one request/answer with ``echo`` (the same hops as a ``user_ping``
call: HTTP in, TCP to the peer and back, HTTP out); ``pingpong`` drives ``echo`` directly.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from bitdust.bench.transport_peer_process import HOST, Run, emit, listen_port

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IConnector
    from twisted.python.failure import Failure
    from twisted.web.server import Request

#: ``ask(request)``: send one request to ``echo``; the Deferred fires with its answer
Ask = Callable[[bytes], "Deferred[bytes]"]


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

    listen_port(run.reactor.listenTCP(0, Factory.forProtocol(Echo), interface=HOST))
    return run.run()


def _echo_client(run: Run, port: int, on_ready: Callable[[Ask], None]) -> None:
    """Connect to ``echo`` and call ``on_ready(ask)``; ``ask(request)`` returns a Deferred of the answer.

    Requests may be pipelined: ``echo`` answers in order, so answers are matched first in, first out.
    """
    from twisted.internet import defer
    from twisted.internet.protocol import ClientFactory
    from twisted.protocols.basic import Int32StringReceiver

    class Client(Int32StringReceiver):
        MAX_LENGTH = 1 << 20

        def connectionMade(self) -> None:  # noqa: N802 (Twisted API)
            from twisted.internet.interfaces import ITCPTransport

            ITCPTransport(self.transport).setTcpNoDelay(True)
            self.waiting: deque[defer.Deferred[bytes]] = deque()
            on_ready(self.ask)

        def ask(self, request: bytes) -> defer.Deferred[bytes]:
            waiter: defer.Deferred[bytes] = defer.Deferred()
            self.waiting.append(waiter)
            self.sendString(request)
            return waiter

        def stringReceived(self, answer: bytes) -> None:  # noqa: N802 (Twisted API)
            self.waiting.popleft().callback(answer)

        def connectionLost(self, reason: Failure | None = None) -> None:  # noqa: N802 (Twisted API)
            if run.reactor.running:
                run.fail("the connection to echo was lost")

    class Connector(ClientFactory):
        protocol = Client

        def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:  # noqa: N802 (Twisted API)
            run.fail(f"cannot connect to echo: {reason.getErrorMessage()}")

    run.reactor.connectTCP(HOST, port, Connector(), timeout=10)


def relay(args: argparse.Namespace) -> int:
    """A bare twisted.web server: each GET is one request/answer with ``echo``, answered as a JSON envelope."""
    from twisted.web import resource, server

    from bitdust.bench.listening import listen_tcp
    from bitdust.bench.quiet_site import QuietSite

    run = Run(args.timeout)
    request_body = os.urandom(args.request)
    link: dict[str, Ask] = {}

    class Ping(resource.Resource):
        isLeaf = True

        def render_GET(self, request: Request) -> int:  # noqa: N802 (twisted.web hook)
            started = run.reactor.seconds()

            def answered(answer: bytes) -> None:
                rtt = run.reactor.seconds() - started
                body = {"status": "OK", "result": {"rtt": round(rtt, 6), "bytes": len(answer)}}
                request.setHeader(b"content-type", b"application/json")
                request.write(json.dumps(body).encode())
                request.finish()

            link["ask"](request_body).addCallback(answered)
            return server.NOT_DONE_YET

    def ready(ask: Ask) -> None:
        link["ask"] = ask
        listen_port(listen_tcp(run.reactor, QuietSite(Ping()), interface=HOST))

    _echo_client(run, args.echo_port, ready)
    return run.run()


def pingpong(args: argparse.Namespace) -> int:
    """``--clients`` request/answer loops straight on one Twisted connection to ``echo``."""
    run = Run(args.timeout)
    request_body = os.urandom(args.request)
    samples: list[float] = []
    state = {"end": 0.0, "running": 0, "began": 0.0}

    def loop(ask: Ask) -> None:
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

    def ready(ask: Ask) -> None:
        state["began"] = time.perf_counter()
        state["end"] = state["began"] + args.duration
        state["running"] = args.clients
        for _ in range(args.clients):
            loop(ask)

    _echo_client(run, args.port, ready)
    return run.run()
