"""DhtNode is the facade: its parts live in modules of their own, and callers use public methods only.

The service and the API used to reach into the node (``node.layers[0].attached = True``,
``node.protocol.listen``, ``node.store.items()``, ``node.rng`` ...); these tests hold them to the
public methods that replaced those reaches, and check what each method does.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path
from typing import Any

from twisted.internet import defer, task
from twisted.logger import LogEvent

from bitdust.dht.node import DhtNode
from bitdust.dht.store import StoredValue

ROOT = Path(__file__).resolve().parents[2]
#: what a caller outside bitdust/dht must not touch on a DhtNode: its state and its parts
NODE_INTERNALS = {
    "layers",
    "protocol",
    "store",
    "rng",
    "clock",
    "log",
    "bootstrap",
    "validator",
    "settings",
    "idurl",
    "admission",
    "handover",
    "publisher",
    "liveness",
    "maintenance",
}
#: the modules split out of node.py, and node.py itself
NODE_PARTS = (
    "node",
    "layer",
    "settings",
    "liveness",
    "answers",
    "admission",
    "handover",
    "republish",
    "maintenance",
    "value_cache",
    "lookups",
    "local_values",
    "status",
)


def _node_reaches(path: Path) -> list[str]:
    """``line: expression`` for every internal read through ``node``/``self.node``, and every write."""
    found = []
    for item in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(item, ast.Attribute):
            continue
        owner = item.value
        is_node = (isinstance(owner, ast.Name) and owner.id == "node") or (
            isinstance(owner, ast.Attribute) and owner.attr == "node"
        )
        if is_node and (item.attr in NODE_INTERNALS or isinstance(item.ctx, ast.Store)):
            found.append(f"{item.lineno}: {ast.unparse(item)}")
        if item.attr == "attached" and isinstance(item.ctx, ast.Store):
            found.append(f"{item.lineno}: {ast.unparse(item)} = ...")
    return sorted(found)


def test_the_service_and_the_api_call_public_node_methods_only() -> None:
    for module in ("bitdust/services/service_entangled_dht.py", "bitdust/interface/api/dht.py"):
        assert _node_reaches(ROOT / module) == [], module


def test_the_check_sees_the_reaches_it_forbids(tmp_path: Path) -> None:
    source = tmp_path / "reach.py"
    source.write_text(
        "node.layers[0].attached = True\nport = node.protocol.listen(r, 0)\nself.node.idurl = 'x'\nnode.status()\n"
    )
    assert _node_reaches(source) == [
        "1: node.layers",
        "1: node.layers[0].attached = ...",
        "2: node.protocol",
        "3: self.node.idurl",
    ]


def test_node_and_its_parts_are_small_modules() -> None:
    sizes = {name: len((ROOT / f"bitdust/dht/{name}.py").read_text().splitlines()) for name in NODE_PARTS}
    assert {name: size for name, size in sizes.items() if size >= 400} == {}


def _node(seed: int = 1) -> DhtNode:
    return DhtNode(clock=task.Clock(), rng=random.Random(seed))


def test_mark_attached_announces_a_layer_without_joining_it() -> None:
    node = _node()
    sent: list[Any] = []
    node.protocol.makeConnection(type("T", (), {"write": lambda self, data, addr: sent.append(addr)})())
    node.mark_attached(3)
    assert node.attached_layers() == [3] and node.own_flags(3) == (True, "")
    assert node.own_flags(0) == (False, "") and 0 in node.layers and not node.layers[3].joined
    assert sent == []  # nothing is looked up until join()


def test_set_idurl_names_the_identity_in_what_we_send() -> None:
    node = _node()
    node.mark_attached(0)
    node.set_idurl("http://id.example/alice.xml")
    assert node.own_flags(0) == (True, "http://id.example/alice.xml")


def test_random_id_is_drawn_from_the_injected_random_source() -> None:
    first, second = _node(seed=7), _node(seed=7)
    drawn = first.random_id()
    assert len(drawn) == 20 and drawn == second.random_id() and drawn != first.random_id()


def test_listen_binds_the_protocol_on_the_given_reactor() -> None:
    calls: list[tuple[Any, ...]] = []

    class Reactor:
        def listenUDP(self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 0) -> str:  # noqa: N802,N803
            calls.append((port, protocol, interface, maxPacketSize))
            return "listening"

    node = _node()
    assert node.listen(Reactor(), 14441, interface="127.0.0.1") == "listening"  # type: ignore[arg-type]
    assert calls == [(14441, node.protocol, "127.0.0.1", 16 * 1024 + 1)]


def _value(key: str, value: bytes, expires_at: float) -> StoredValue:
    return StoredValue(0, key, value, "skip_validation", 0.0, expires_at, b"p" * 20)


def test_dump_values_lists_live_strict_values_off_the_reactor_thread() -> None:
    node = _node()
    node.clock.advance(100)  # type: ignore[attr-defined]
    good, gone, bad = _value("good", b'{"a":1}', 200.0), _value("gone", b"{}", 50.0), _value("bad", b"{NaN}", 300.0)
    for item in (good, gone, bad):
        node.store.put(item)
    jobs: list[Any] = []
    logged: list[LogEvent] = []
    node.log.observer = logged.append  # type: ignore[misc]

    def run_blocking(fn: Any) -> defer.Deferred[Any]:
        jobs.append(fn)
        return defer.succeed(fn())

    rows: list[Any] = []
    node.dump_values(run_blocking).addCallback(rows.append)
    assert rows == [[good.to_json(100.0)]] and len(jobs) == 1
    assert [event["key"] for event in logged] == ["bad"]


def test_flushed_and_close_store_end_the_store() -> None:
    node = _node()
    done: list[Any] = []
    node.flushed().addCallback(done.append)
    node.close_store()
    assert done == [None]
