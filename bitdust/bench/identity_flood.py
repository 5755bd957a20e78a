"""``python -m bitdust.bench identity_flood``: an identity server under a registration flood.

Issue 11 point 8 in numbers. In one process, against the identity server's own ``Site`` over
in-memory transports (no sockets): one key posts ``--count`` documents of about 30 KB under as many
names, all at once (every document is parsed before any is written, as on a busy thread pool); then
``--keys`` keys post one name each from one address; then honest users register from addresses of
their own. Printed: how many of each were accepted, the server folder's size and file count, and the
memory the server keeps afterwards (traced Python allocations and the process's RSS).

The script uses only what the server module has always offered, so the same file measures an older
checkout too (``PYTHONPATH=<checkout> python -m bitdust.bench identity_flood``, once the registry lists it).
"""

from __future__ import annotations

import gc
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from twisted.internet import defer, task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.logger import Logger, LogPublisher

from bitdust.bench.registry import Benchmark
from bitdust.crypt.rsa_key import RsaKey
from bitdust.userid.identity import Identity
from bitdust.userid.identity_server import IdentityStore, make_identity_server_site

HOST, PORT = "localhost", 8084
ATTACKER = "127.0.0.66"


class _Queued:
    """A ``run_blocking`` that holds every call until :meth:`drain`: all requests are in flight at once."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[[], Any], defer.Deferred[Any]]] = []

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.calls.append((lambda: fn(*args, **kwargs), d))
        return d

    def drain(self) -> None:
        while self.calls:
            call, d = self.calls.pop(0)
            try:
                result = call()
            except Exception as exc:  # delivered to the waiting Deferred, as a thread pool would
                d.errback(exc)
            else:
                d.callback(result)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _document(key: RsaKey, name: str, padding: int) -> bytes:
    """A valid signed document of about ``padding`` bytes more than a minimal one."""
    items = max(0, min(32, padding // 1000))  # 16 certificates and 16 scrubbers at most
    filler = tuple(f"{name}-{index}-" + "x" * 980 for index in range(items))
    identity = Identity(
        sources=[f"http://{HOST}:{PORT}/{name}.xml"],
        contacts=("tcp://127.0.0.1:7771",),
        public_key=key.public_openssh(),
        revision=1,
        date="Jan 01, 2025",
        version="flood",
        certificates=filler[:16],
        scrubbers=filler[16:],
    )
    return identity.signed(key).to_xml().encode("utf-8")


def _post(site: Any, name: str, body: bytes, address: str) -> StringTransport:
    peer = IPv4Address("TCP", address, 40000)
    transport = StringTransport(peerAddress=peer)
    channel = site.buildProtocol(peer)
    channel.makeConnection(transport)
    head = f"POST /{name}.xml HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Length: {len(body)}\r\n\r\n"
    channel.dataReceived(head.encode("ascii") + body)
    return transport


def _code(transport: StringTransport) -> int | None:
    head = transport.value().split(b"\r\n", 1)[0].split()
    return int(head[1]) if len(head) > 1 else None


def _folder_size(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()] if folder.is_dir() else []
    return sum(path.stat().st_size for path in files), len(files)


def run(count: int = 500, keys: int = 40, honest: int = 5, padding: int = 28_000) -> dict[str, Any]:
    """Mount the flood and return the figures (see the module docstring)."""
    attacker = RsaKey.generate(2048)
    throwaway = [RsaKey.generate(1024) for _ in range(keys)]
    users = [RsaKey.generate(1024) for _ in range(honest)]
    flood = [(f"flood{index:04d}", _document(attacker, f"flood{index:04d}", padding)) for index in range(count)]
    spread = [(f"spread{index:04d}", _document(k, f"spread{index:04d}", 0)) for index, k in enumerate(throwaway)]
    flood_size = len(flood[0][1])
    honest_docs = [(f"honest{index:02d}", _document(k, f"honest{index:02d}", 0)) for index, k in enumerate(users)]
    with tempfile.TemporaryDirectory(prefix="bitdust-idflood-") as tmp:
        folder = Path(tmp) / "identityserver"
        quiet = Logger(observer=LogPublisher())  # a publisher without observers: nothing is logged
        gc.collect()
        tracemalloc.start()
        traced_before = tracemalloc.get_traced_memory()[0]
        rss_before = _rss_kib()
        store = IdentityStore(folder, log=quiet)
        blocking = _Queued()
        site = make_identity_server_site(
            store, host=HOST, port=PORT, run_blocking=blocking, log=quiet, reactor=task.Clock()
        )

        def mount(batch: list[tuple[str, bytes]], address: Callable[[int], str]) -> list[int | None]:
            calls = [_post(site, name, body, address(index)) for index, (name, body) in enumerate(batch)]
            blocking.drain()
            return [_code(call) for call in calls]

        flood_codes = mount(flood, lambda _i: ATTACKER)
        spread_codes = mount(spread, lambda _i: ATTACKER)
        honest_codes = mount(honest_docs, lambda i: f"127.0.0.{10 + i}")
        del flood, spread
        gc.collect()
        traced_after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        rss_after = _rss_kib()
        disk, files = _folder_size(folder)
        refusals: dict[str, int] = {}
        for code in flood_codes + spread_codes:
            if code != 200:
                refusals[str(code)] = refusals.get(str(code), 0) + 1
        return {
            "flood_one_key": {"posted": count, "accepted": flood_codes.count(200)},
            "many_keys_one_address": {"posted": keys, "accepted": spread_codes.count(200)},
            "honest_other_addresses": {"posted": honest, "accepted": honest_codes.count(200)},
            "refusals_by_status": refusals,
            "flood_document_bytes": flood_size,
            "disk_bytes": disk,
            "disk_files": files,
            "kept_in_memory_mib": round((traced_after - traced_before) / (1 << 20), 2),
            "rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
        }


def run_benchmark(quick: bool) -> dict[str, Any]:
    """The registered entry: the whole flood, or a small one with ``--quick``."""
    figures = run(count=40, keys=6, honest=2) if quick else run()
    return {"quick": quick, **figures}


def render(figures: dict[str, Any]) -> None:
    table = Table(title="identity server flood" + (" (quick)" if figures["quick"] else ""))
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        if name == "quick":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{key} {item}" for key, item in value.items()) or "none"
        table.add_row(name.replace("_", " "), str(value))
    Console().print(table)


BENCHMARK = Benchmark(
    name="identity_flood",
    description="registrations flooding an identity server: what is kept, disk and memory, honest users served",
    run=run_benchmark,
    render=render,
)
