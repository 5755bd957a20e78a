"""The DHT end to end: DHT seeds, identity servers and nodes as real processes of a sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from tests.e2e.helpers import api, ok, poll_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Two identity servers, three chained DHT seeds, three nodes with identities."""
    sandbox = Sandbox(tmp_path_factory.mktemp("dht-sandbox"))
    try:
        sandbox.up(3, id_servers=2, dht_seeds=3)
        yield sandbox
    finally:
        if (sandbox.directory / "sandbox.json").exists():
            sandbox.down()


@pytest.fixture(scope="module")
def nodes(box: Sandbox) -> dict[str, NodeRecord]:
    found = {record.name: record for record in box.load().nodes}
    for name in ("node-1", "node-2", "node-3"):
        poll_until(lambda name=name: _joined(found[name]), deadline=60, what=f"{name} to join the DHT")
    return found


def _joined(node: NodeRecord) -> bool:
    """The node's DHT has joined through every seed and knows the other nodes."""
    status, envelope = api(node, "GET", "network/status/v1", dht=1)
    if status != 200 or not envelope["result"]["dht"].get("active"):
        return False
    dht = envelope["result"]["dht"]
    base = next(layer for layer in dht["layers"] if layer["layer_id"] == 0)
    return dht["bootstrap"]["state"] == "joined" and not dht["bootstrap"]["seeds_down"] and base["node_items"] >= 3


def _read_ok(node: NodeRecord, key: str, **params: Any) -> dict[str, Any] | None:
    status, envelope = api(node, "GET", "dht/value/get/v1", key=key, **params)
    return envelope["result"] if status == 200 else None


def test_the_sandbox_chains_its_seeds(box: Sandbox) -> None:
    records = {r.name: r for r in box.load().nodes}
    seeds = [records[f"dht-{i}"] for i in (1, 2, 3)]
    assert all(r.role == "dht-seed" and isinstance(r.extra["dht_port"], int) for r in seeds)
    assert isinstance(records["node-1"].extra["dht_port"], int)
    known = [(r.home / "config/services/entangled-dht/known-nodes").read_text().strip() for r in seeds]
    assert known[0] == "genesis"
    assert known[1] == f"127.0.0.1:{seeds[0].extra['dht_port']}"
    assert known[2] == f"127.0.0.1:{seeds[0].extra['dht_port']}, 127.0.0.1:{seeds[1].extra['dht_port']}"


def test_a_value_set_on_one_node_is_read_on_another(nodes: dict[str, NodeRecord]) -> None:
    written = ok(
        nodes["node-1"], "POST", "dht/value/set/v1", key="e2e-hello", value={"text": "from node-1"}, expire=600
    )
    assert written["write"] == "success" and written["stored_on"] >= 1, written
    assert written["value"] == {"text": "from node-1", "type": "skip_validation"}
    read = poll_until(
        lambda: (r := _read_ok(nodes["node-2"], "e2e-hello")) and r["read"] == "success" and r,
        deadline=30,
        what="node-2 to read the value",
    )
    assert read["value"] == {"text": "from node-1", "type": "skip_validation"} and read["key"] == "e2e-hello"
    dumped = [
        item["key"] for node in nodes.values() if node.role == "dht-seed" for item in ok(node, "GET", "dht/db/dump/v1")
    ]
    assert "e2e-hello" in dumped or ok(nodes["node-3"], "GET", "dht/value/get/v1", key="e2e-hello")["read"] == "success"


def test_an_invalid_record_is_refused_with_400_naming_the_rule(nodes: dict[str, NodeRecord]) -> None:
    node = nodes["node-1"]
    record = {
        "nickname": "mallory",
        "idurl": "http://127.0.0.1:1/mallory.xml",
        "position": 0,
        "timestamp": int(time.time()),
        "taken": [],
    }
    status, envelope = api(node, "POST", "dht/value/set/v1", key="mallory:0", value=record, record_type="nickname")
    assert status == 400, envelope
    assert "rule 'signature'" in envelope["errors"][0]
    status, envelope = api(node, "POST", "dht/value/set/v1", key="mallory:7", value=record, record_type="nickname")
    assert status == 400 and "rule 'key'" in envelope["errors"][0]
    status, envelope = api(node, "POST", "dht/value/set/v1", key="x", value={"a": 1}, record_type="no_such_type")
    assert status == 400 and "record_type: 'no_such_type' is not one of 'skip_validation'" in envelope["errors"][0]
    read = ok(nodes["node-2"], "GET", "dht/value/get/v1", key="mallory:0", record_type="nickname")
    assert read["read"] == "failed"


def test_an_expired_record_is_gone(nodes: dict[str, NodeRecord]) -> None:
    ok(nodes["node-1"], "POST", "dht/value/set/v1", key="e2e-short", value={"n": 1}, expire=3)
    assert ok(nodes["node-3"], "GET", "dht/value/get/v1", key="e2e-short")["read"] == "success"
    time.sleep(3.5)  # the record's lifetime is what is being tested, not a synchronization
    for name in ("node-1", "node-2", "node-3"):
        assert ok(nodes[name], "GET", "dht/value/get/v1", key="e2e-short")["read"] == "failed"


def test_random_users_of_the_suppliers_layer_are_only_attached_nodes(nodes: dict[str, NodeRecord]) -> None:
    supplier = nodes["node-3"]
    ok(supplier, "POST", "config/set/v1", key="services/entangled-dht/attached-layers", value="3")
    try:

        def suppliers_found() -> list[dict[str, Any]] | None:
            users = ok(nodes["node-1"], "GET", "dht/user/random/v1", layer_id=3, count=10)
            return users or None

        users = poll_until(suppliers_found, deadline=30, what="a random user on layer 3")
        assert {u["global_id"] for u in users} == {supplier.extra["global_id"]}
        assert all(u["layer_id"] == 3 for u in users)
        wanted = {nodes["node-2"].extra["global_id"], supplier.extra["global_id"]}
        poll_until(
            lambda: (
                {u["global_id"] for u in ok(nodes["node-1"], "GET", "dht/user/random/v1", layer_id=0, count=20)}
                >= wanted
            ),
            deadline=30,
            what="the other nodes among the random users of layer 0",
        )
    finally:
        ok(supplier, "POST", "config/set/v1", key="services/entangled-dht/attached-layers", value="")
    poll_until(
        lambda: ok(nodes["node-2"], "GET", "dht/user/random/v1", layer_id=3, count=10) == [],
        deadline=30,
        what="the supplier to detach from layer 3",
    )


def test_user_search_finds_bob_by_nickname(nodes: dict[str, NodeRecord]) -> None:
    alice, bob = nodes["node-1"], nodes["node-2"]
    ok(bob, "POST", "config/set/v1", key="personal/nickname", value="bob-e2e")
    found = poll_until(
        lambda: (r := ok(alice, "GET", "user/search/v1", nickname="bob-e2e"))["result"] == "exist" and r,
        deadline=30,
        what="alice to find bob",
    )
    assert found["global_id"] == bob.extra["global_id"] and found["idurl"] == bob.extra["idurl"]
    assert found["position"] == 0 and found["nickname"] == "bob-e2e"
    # carol takes the same nickname: she gets the next position and both are observed
    ok(nodes["node-3"], "POST", "config/set/v1", key="personal/nickname", value="bob-e2e")
    both = poll_until(
        lambda: len(r := ok(alice, "GET", "user/observe/v1", nickname="bob-e2e", attempts=3)) == 2 and r,
        deadline=30,
        what="both users of the nickname",
    )
    assert [(u["position"], u["global_id"]) for u in both] == [
        (0, bob.extra["global_id"]),
        (1, nodes["node-3"].extra["global_id"]),
    ]
    missing = ok(alice, "GET", "user/search/v1", nickname="nobody-has-this", attempts=2)
    assert missing["result"] == "not exist"
    # the default nickname is the identity's name
    default = ok(bob, "GET", "user/search/v1", nickname="node-1")
    assert default["result"] == "exist" and default["global_id"] == alice.extra["global_id"]


def test_node_find_and_bad_input(nodes: dict[str, NodeRecord]) -> None:
    node = nodes["node-2"]
    found = ok(node, "GET", "dht/node/find/v1")
    assert found["my_dht_id"] and len(found["closest_nodes"]) >= 3
    assert all(":" in n["address"] for n in found["closest_nodes"])
    target = found["closest_nodes"][0]["dht_id"]
    again = ok(node, "GET", "dht/node/find/v1", node_id_64=target, layer_id=0)
    assert again["lookup"] == target and again["closest_nodes"][0]["dht_id"] == target
    for params in ({"node_id_64": "not-an-id"}, {"layer_id": 42}):
        status, envelope = api(node, "GET", "dht/node/find/v1", **params)
        assert status == 400, envelope
    status, _ = api(node, "GET", "dht/user/random/v1", layer_id=3, count=0)
    assert status == 400


def test_network_status_reports_the_dht(nodes: dict[str, NodeRecord]) -> None:
    node = nodes["node-1"]
    dht = ok(node, "GET", "network/status/v1", dht=1)["dht"]
    assert dht["active"] and dht["udp_port"] == node.extra["dht_port"]
    assert dht["bootstrap"]["state"] == "joined" and dht["bootstrap"]["seeds_down"] == []
    base = next(layer for layer in dht["layers"] if layer["layer_id"] == 0)
    assert base["attached"] and base["active"] and base["node_items"] >= 3
    assert base["packets_received"] > 0 and base["rpc_calls"] > 0 and dht["bytes_sent"] > 0
    # the bootstrap is the dht_bootstrap state machine of the engine
    machines = [m for m in ok(node, "GET", "automat/list/v1") if m["name"] == "dht_bootstrap"]
    assert [m["state"] for m in machines] == ["JOINED"]
    # process_info's dht section, in the original's shape, from the same counters
    info = ok(node, "GET", "process/info/v1")["dht"]
    assert info["layers"]["0"]["packets_in"] > 0 and info["layers"]["0"]["packets_out"] > 0
    assert isinstance(info["layers"]["0"]["cache"], int)
    assert info["bytes_in"] > 0 and info["bytes_out"] > 0


def test_a_node_whose_seeds_are_all_down_keeps_retrying_and_says_so(box: Sandbox, nodes: dict[str, NodeRecord]) -> None:
    """Runs last: it stops the seeds."""
    seeds = [f"dht-{i}" for i in (1, 2, 3)]
    for name in seeds:
        box.stop_node(name)
    node = nodes["node-3"]
    ok(node, "POST", "service/restart/service_entangled_dht/v1")

    def retrying() -> dict[str, Any] | None:
        bootstrap = ok(node, "GET", "network/status/v1", dht=1)["dht"]["bootstrap"]
        return bootstrap if bootstrap["state"] == "retrying" and bootstrap["attempts"] >= 2 else None

    bootstrap = poll_until(retrying, deadline=60, what="node-3 to retry its bootstrap")
    assert len(bootstrap["seeds_down"]) == 3 and bootstrap["next_retry_in"] is not None
    # the restart destroyed the old node's machine: one bootstrap machine, the new one
    machines = [m for m in ok(node, "GET", "automat/list/v1") if m["name"] == "dht_bootstrap"]
    assert len(machines) == 1 and machines[0]["state"] in ("JOINING", "RETRY_WAIT")
    box.start_node("dht-1")
    poll_until(
        lambda: ok(node, "GET", "network/status/v1", dht=1)["dht"]["bootstrap"]["state"] == "joined",
        deadline=60,
        what="node-3 to join once a seed is back",
    )
