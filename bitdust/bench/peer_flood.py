"""``python -m bitdust.bench peer_flood``: what a flooding peer costs a node's gateway.

Two attacks from issue 11, measured in this process on a ``task.Clock`` against the gateway's own
objects (so the same script measures any version of the code):

* **replay guard** (issue 11 point 2): 20 creators send 200,000 Acks dated one second before the
  future edge of the clock-skew window, spread over 19 s. The guard is the one a
  :class:`~bitdust.p2p.gateway.Gateway` builds; it is fed light stand-ins carrying the three fields
  it reads, because the figure is about the guard, not RSA. Reported: entries held, creators
  tracked, memory it took (tracemalloc) and the process's RSS growth, how many honest packets were
  refused during the flood, and how long after the flood an honest packet is still refused.
* **no handler** (issue 11, Low): one throwaway identity (1024-bit key) sends signed packets of a
  command the node has no handler for; the node (2048-bit key) verifies each and answers. Reported:
  the sender's signing cost per packet, the node's cost per packet (verify, and sign an answer when
  it sends one) and how many signed answers it sent; then the same for the same packets sent
  again (replayed).

``--quick`` sends a tenth of the packets.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from typing import Any, cast

import attrs
from rich.console import Console
from rich.table import Table
from twisted.internet import defer, task

from bitdust.bench.registry import Benchmark
from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p import packet as packets
from bitdust.p2p.gateway import Gateway
from bitdust.userid.identity import Identity
from bitdust.userid.idurl import parse_user_ref

START = 1_700_000_000.0
NODE = "http://127.0.0.1:8084/node.xml"
HONEST = "http://127.0.0.1:8084/alice.xml"
FLOODERS = 20
PER_FLOODER = 10_000
FLOOD_SECONDS = 19.0
NO_HANDLER_PACKETS = 500


def _progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@attrs.frozen(slots=True)
class _Seen:
    """The three fields the replay guard reads, without a signature to verify."""

    creator_id: str
    packet_id: str
    date: float


def _seen(creator_id: str, packet_id: str, date: float) -> packets.Packet:
    """A :class:`_Seen` where the guard takes a ``Packet``: it reads only these three fields.

    The guard's signature names the whole packet; a narrower type there belongs to the p2p layer.
    """
    return cast(packets.Packet, _Seen(creator_id, packet_id, date))


class _Cache:
    """The identity cache calls the gateway makes, over a fixed set of identities."""

    def __init__(self, *identities: Identity) -> None:
        self.known = {source.url: identity for identity in identities for source in identity.sources}

    def resolve(self, idurl: Any) -> Any:
        return parse_user_ref(idurl)

    def get(self, idurl: Any) -> Identity | None:
        return self.known.get(parse_user_ref(idurl).url)

    def fetch(self, idurl: Any) -> defer.Deferred[Identity]:
        return defer.fail(LookupError(f"{idurl} is not known"))

    def refresh(self, idurl: Any, *, reason: str = "") -> defer.Deferred[Identity | None]:
        return defer.succeed(self.get(idurl))

    def refresh_if_older(self, idurl: Any, revision: int) -> defer.Deferred[Identity | None]:
        return defer.succeed(self.get(idurl))


class _Wire:
    """A transport that only counts what the gateway hands it."""

    proto = "tcp"

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
        self.sent.append(data)
        return defer.succeed(None)

    def bind(self, conn: Any, idurl: str) -> None:
        return None


def _identity(key: RsaKey, idurl: str, port: int) -> Identity:
    return Identity(
        sources=[idurl], contacts=(f"tcp://127.0.0.1:{port}",), public_key=key.public_openssh(), revision=1
    ).signed(key)


def _gateway(clock: task.Clock, key: RsaKey | None, me: Identity | None, *others: Identity) -> tuple[Gateway, _Wire]:
    cache = _Cache(*(identity for identity in (me, *others) if identity is not None))
    gateway = Gateway(
        clock=clock,
        identity=lambda: me,
        signing_key=lambda: key,
        cache=cache,
        run_blocking=lambda fn, *args, **kwargs: defer.maybeDeferred(fn, *args, **kwargs),
    )
    wire = _Wire()
    gateway.add_transport(wire)
    return gateway, wire


def replay_flood(quick: bool) -> dict[str, Any]:
    """Flood the guard a gateway builds; honest packets are tried every 1,000 flood packets."""
    per = PER_FLOODER // 10 if quick else PER_FLOODER
    clock = task.Clock()
    clock.advance(START)
    rss_before = _rss_mb()
    tracemalloc.start()
    guard = _gateway(clock, None, None)[0].replays
    limits = packets.DEFAULT_LIMITS
    future = getattr(limits, "max_future_skew", limits.max_skew)
    creators = [f"http://127.0.0.1:9{n:03d}/flood{n}.xml" for n in range(FLOODERS)]
    total = FLOODERS * per
    step = FLOOD_SECONDS / total * 1000
    honest_tried = honest_refused = flood_accepted = 0
    started = time.perf_counter()
    for i in range(total):
        if i % 1000 == 0:
            clock.advance(step)
            honest_tried += 1
            honest_refused += guard.check_and_remember(_seen(HONEST, f"during-{i}", clock.seconds()))
        seen = _seen(creators[i % FLOODERS], f"f{i}", clock.seconds() + future - 1)
        flood_accepted += not guard.check_and_remember(seen)
    flood_s = time.perf_counter() - started
    entries = len(guard)
    traced, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = _rss_mb()
    locked_out = 0.0
    while guard.check_and_remember(_seen(HONEST, f"after-{locked_out}", clock.seconds())) and locked_out < 7200:
        clock.advance(10)
        locked_out += 10
    return {
        "flood_packets": total,
        "flood_accepted": flood_accepted,
        "flood_wall_s": round(flood_s, 2),
        "future_skew_s": future,
        "past_skew_s": limits.max_skew,
        "guard_entries": entries,
        "guard_memory_mb": round(traced / 2**20, 1),
        "guard_peak_memory_mb": round(peak / 2**20, 1),
        "rss_growth_mb": round(rss_after - rss_before, 1),
        "honest_refused_during": f"{honest_refused}/{honest_tried}",
        "honest_refused_for_s_after": locked_out,
    }


def no_handler(quick: bool) -> dict[str, Any]:
    """Signed packets of a command nobody handles, from one throwaway identity, verified synchronously."""
    count = NO_HANDLER_PACKETS // 10 if quick else NO_HANDLER_PACKETS
    node_key, flooder_key = RsaKey.generate(2048), RsaKey.generate(1024)
    flooder_url = "http://127.0.0.1:9999/throwaway.xml"
    node, flooder = _identity(node_key, NODE, 7001), _identity(flooder_key, flooder_url, 7999)
    clock = task.Clock()
    clock.advance(START)
    gateway, wire = _gateway(clock, node_key, node, flooder)
    started = time.perf_counter()
    wires = [
        packets.encode(
            packets.sign(
                packets.Packet(
                    command=commands.CONTACTS,
                    owner_id=flooder_url,
                    creator_id=flooder_url,
                    packet_id=f"nobody-handles-{n}",
                    date=START,
                    remote_id=NODE,
                ),
                flooder_key,
            )
        )
        for n in range(count)
    ]
    sender_ms = (time.perf_counter() - started) / count * 1000
    started = time.perf_counter()
    for data in wires:
        gateway.inbox(data, None)
    node_ms = (time.perf_counter() - started) / count * 1000
    answered = len(wire.sent)
    started = time.perf_counter()
    for data in wires:
        gateway.inbox(data, None)
    replay_ms = (time.perf_counter() - started) / count * 1000
    gateway.stop()
    return {
        "packets": count,
        "sender_ms_per_packet": round(sender_ms, 3),
        "node_ms_per_packet": round(node_ms, 3),
        "signed_answers_sent": answered,
        "replayed_node_ms_per_packet": round(replay_ms, 3),
        "signed_answers_to_replays": len(wire.sent) - answered,
        "dropped": dict(gateway.stats.dropped),
    }


def run(quick: bool = False) -> dict[str, Any]:
    _progress("replay guard flood")
    guard = replay_flood(quick)
    _progress("packets with no handler")
    return {"benchmark": "peer_flood", "quick": quick, "replay_guard": guard, "no_handler": no_handler(quick)}


def render(figures: dict[str, Any]) -> None:
    console = Console()
    for section in ("replay_guard", "no_handler"):
        table = Table(title=f"peer flood: {section.replace('_', ' ')}" + (" (quick)" if figures["quick"] else ""))
        table.add_column("figure")
        table.add_column("value", justify="right")
        for name, value in figures[section].items():
            table.add_row(name.replace("_", " "), str(value))
        console.print(table)


BENCHMARK = Benchmark(
    name="peer_flood",
    description="replay-guard flood and packets with no handler: memory, refusals, cost per packet",
    run=run,
    render=render,
)
