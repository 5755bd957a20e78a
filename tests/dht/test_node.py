from __future__ import annotations

import random
from typing import Any

import attrs
import pytest

from bitdust.dht import records
from bitdust.dht.errors import RecordError, RpcError
from bitdust.dht.messages import Contact, Message
from bitdust.dht.node import DhtNode
from bitdust.dht.node_id import key_hash
from bitdust.dht.settings import DhtSettings
from bitdust.dht.simulation import sim_address
from tests.dht.helpers import ALICE, BOB, Net
from tests.dht.record_builders import nickname as signed_nickname


def value(**fields: Any) -> bytes:
    return records.canonical_json({"type": "skip_validation", **fields})


def test_a_value_set_on_one_node_is_read_on_another() -> None:
    net = Net().build(12, seeds=2)
    outcome = net.wait(net.nodes[3].set_value("hello", value(text="world"), ttl=600))
    assert outcome.success and len(outcome.stored_on) == 8
    reader = next(n for n in net.nodes if n.store.get(0, "hello", net.clock.now) is None)
    result = net.wait(reader.get_value("hello"))
    assert result.value.record == {"type": "skip_validation", "text": "world"}
    assert result.hops >= 1 and result.value.holder.node_id != reader.node_id
    missing = net.wait(net.nodes[9].get_value("nobody-set-this"))
    assert missing.value is None and missing.closest


def test_expired_values_are_gone_everywhere() -> None:
    net = Net().build(6)
    net.wait(net.nodes[1].set_value("short", value(), ttl=10))
    assert net.wait(net.nodes[4].get_value("short")).value is not None
    net.settle(11)
    assert all(n.store.get(0, "short", net.clock.now) is None for n in net.nodes)
    assert net.wait(net.nodes[5].get_value("short")).value is None


def test_the_publisher_republishes_what_others_lost() -> None:
    net = Net(settings=DhtSettings(rpc_timeout=2.0, republish_interval=100)).build(8)
    publisher = net.nodes[2]
    publisher.start()
    net.wait(publisher.set_value("mine", value(), ttl=1000))
    holders = [n for n in net.nodes if n is not publisher and n.store.get(0, "mine", net.clock.now)]
    assert holders
    for node in holders:
        node.store.delete(0, "mine")
    net.settle(101)
    again = [n for n in net.nodes if n is not publisher and n.store.get(0, "mine", net.clock.now)]
    assert len(again) == len(holders)
    left = again[0].store.get(0, "mine", net.clock.now)
    assert 890 <= left.expires_at - net.clock.now <= 900  # the TTL that was left, not a fresh one
    publisher.stop()


def test_expiry_loop_drops_values_and_stays_quiet() -> None:
    net = Net(settings=DhtSettings(rpc_timeout=2.0, expire_interval=5)).build(3)
    node = net.nodes[1]
    node.start()
    net.wait(node.set_value("tmp", value(), ttl=3))
    assert node.store.count(0) == 1
    net.settle(6)
    assert node.store.count(0) == 0
    node.stop()


def test_invalid_records_are_refused_locally_and_remotely(validator, keys) -> None:
    net = Net(validator=validator).build(5)
    record = signed_nickname(keys[BOB], ALICE)
    failure = []
    net.nodes[1].set_value("alice:0", records.canonical_json(record), record_type="nickname").addErrback(failure.append)
    assert failure[0].check(RecordError) and failure[0].value.rule == "signature"
    # a node that skips its own checks and sends the bad record anyway is refused by the others
    args = {"k": "alice:0", "v": records.canonical_json(record), "t": "nickname", "ttl": 60, "p": net.nodes[1].node_id}
    answer = net.nodes[1].protocol.request(sim_address(0), 0, "store", args)
    errors: list = []
    answer.addErrback(errors.append)
    net.settle(5)
    assert errors[0].check(RpcError) and errors[0].value.code == "record:signature"
    assert net.nodes[0].store.get(0, "alice:0", net.clock.now) is None


def test_a_nickname_is_first_come_first_served(validator, keys) -> None:
    net = Net(validator=validator).build(14)
    good = signed_nickname(keys[ALICE], ALICE)
    assert net.wait(net.nodes[1].set_value("alice:0", records.canonical_json(good), record_type="nickname")).success
    squat = signed_nickname(keys[BOB], BOB)
    outsider = next(n for n in net.nodes if n.store.get(0, "alice:0", net.clock.now) is None)
    outcome = net.wait(outsider.set_value("alice:0", records.canonical_json(squat), record_type="nickname"))
    assert not outcome.success and outcome.refused
    assert all("held by" in reason for reason in outcome.refused.values())
    for node in net.nodes:
        if node is not outsider:
            found = net.wait(node.get_value("alice:0", record_type="nickname"))
            assert found.value.record["idurl"] == ALICE
    # a node holding the record refuses the squatter before sending anything
    failure: list = []
    net.nodes[1].set_value("alice:0", records.canonical_json(squat), record_type="nickname").addErrback(failure.append)
    net.settle(5)
    assert failure[0].check(RecordError) and failure[0].value.rule == "owner"


def test_an_older_revision_never_replaces_a_newer_one(validator, keys) -> None:
    net = Net(validator=validator).build(14)

    def suppliers(revision: int) -> bytes:
        record = {
            "type": "suppliers",
            "customer_idurl": ALICE,
            "publisher_idurl": ALICE,
            "ecc_map": "ecc/2x2",
            "suppliers": [BOB, ""],
            "revision": revision,
            "timestamp": 1,
        }
        return records.canonical_json(records.sign_record(f"suppliers:{ALICE}", record, keys[ALICE]))

    key = f"suppliers:{ALICE}"
    assert net.wait(net.nodes[1].set_value(key, suppliers(5), record_type="suppliers")).success
    outsider = next(n for n in net.nodes if n.store.get(0, key, net.clock.now) is None)
    outcome = net.wait(outsider.set_value(key, suppliers(4), record_type="suppliers"))
    assert not outcome.stored_on and outcome.refused and all("older" in r for r in outcome.refused.values())
    for node in net.nodes:
        if node is not outsider:
            assert net.wait(node.get_value(key, record_type="suppliers")).value.revision == 5
    assert net.wait(net.nodes[1].set_value(key, suppliers(6), record_type="suppliers")).success
    assert net.wait(net.nodes[9].get_value(key, record_type="suppliers")).value.revision == 6


class LyingNode(DhtNode):
    """Answers every find_value with a value for another key, and find_node with its accomplices."""

    def handle_request(self, message: Message, address: Any) -> Any:
        if message.method == "find_value":
            return {"k": "something-else", "v": value(evil=True), "t": "skip_validation", "ttl": 100}
        if message.method == "find_node":
            return {"c": [[bytes([i]) * 20, "not-an-ip", 1] for i in range(3)]}
        return super().handle_request(message, address)


def test_lying_nodes_do_not_poison_lookups() -> None:
    net = Net().build(12)
    liar = LyingNode(clock=net.clock, rng=random.Random(99), settings=net.settings)  # type: ignore[arg-type]
    net.network.listen(liar.protocol, sim_address(50))
    liar.layers[0].attached = True
    liar.join([sim_address(0)])
    net.settle(10)
    net.wait(net.nodes[2].set_value("truth", value(good=True), ttl=100))
    reader = next(n for n in net.nodes[1:] if n.store.get(0, "truth", net.clock.now) is None)
    for contact in reader.layers[0].table.contacts():
        reader.layers[0].table.remove(contact.node_id)
    reader.layers[0].table.add(Contact(liar.node_id, *sim_address(50)), net.clock.now)
    # (the liar has heard from the reader before: it does not ping it back, which would bring it in again)
    liar.protocol.guard.mark_verified(sim_address(net.nodes.index(reader)))
    # the liar is one of the two contacts the lookup starts from, so it is surely asked
    found = net.wait(reader.find_node(key_hash("zzz")))
    assert found.closest and all(c.host != "not-an-ip" for c in found.closest)
    assert any("IP address" in error for error in found.errors)
    assert reader.layers[0].table.get(liar.node_id) is None  # the liar is forgotten
    reader.layers[0].table.add(Contact(liar.node_id, *sim_address(50)), net.clock.now)
    result = net.wait(reader.get_value("truth"))
    assert result.value.record == {"type": "skip_validation", "good": True}


def test_invalid_values_returned_by_a_node_are_ignored(validator, keys) -> None:
    net = Net(validator=validator).build(6)
    good = signed_nickname(keys[ALICE], ALICE)
    assert net.wait(net.nodes[1].set_value("alice:0", records.canonical_json(good), record_type="nickname")).success
    # one holder's copy gets corrupted behind the validator's back
    holders = [n for n in net.nodes if n.store.get(0, "alice:0", net.clock.now) and n is not net.nodes[1]]
    bad = dict(good, idurl=BOB)  # the signature no longer matches
    item = holders[0].store.get(0, "alice:0", net.clock.now)
    holders[0].store.put(attrs.evolve(item, value=records.canonical_json(bad)))
    for node in net.nodes[2:]:
        if node is holders[0]:
            continue  # its own (trusted) store is what was corrupted
        found = net.wait(node.get_value("alice:0", record_type="nickname"))
        assert found.value is not None and found.value.record["idurl"] == ALICE


def test_layers_only_list_attached_live_nodes() -> None:
    net = Net()
    net.build(3)  # seeds-like nodes: layer 0 only
    for layer in range(1, 10):
        for node in net.nodes:
            node.activate_layer(layer)
    suppliers = [net.add(seeds=3, attached=(0, 3)) for _ in range(4)]
    others = [net.add(seeds=3) for _ in range(4)]
    found = net.wait(others[0].random_nodes(3, count=10))
    assert {r.contact.node_id for r in found} == {n.node_id for n in suppliers}
    assert all(r.attached for r in found)
    # a supplier that detaches disappears from the layer; a dead one is not "live"
    net.wait(suppliers[0].detach_layer(3))
    net.network.kill(sim_address(net.nodes.index(suppliers[1])))
    found = net.wait(others[1].random_nodes(3, count=10))
    assert {r.contact.node_id for r in found} == {n.node_id for n in suppliers[2:]}
    assert others[1].layers[3].attached is False


def test_a_node_whose_seeds_are_down_retries_with_backoff() -> None:
    net = Net(settings=DhtSettings(rpc_timeout=2.0, backoff_min=1.0, backoff_max=8.0))
    node = net.add(join=False)
    node.join([("10.99.0.1", 14441)])
    net.settle(2.5)
    status = node.status()["bootstrap"]
    assert status["state"] == "retrying" and status["attempts"] == 1 and status["seeds_down"] == ["10.99.0.1:14441"]
    assert status["next_retry_in"] == pytest.approx(0.5, abs=0.01)
    attempts_at = []
    for _ in range(40):
        net.settle(1)
        attempts_at.append(node.bootstrap_attempts)
    # retries at growing intervals (1, 2, 4, 8, 8 s + the 2 s ping timeout each)
    changes = [i for i in range(1, len(attempts_at)) if attempts_at[i] != attempts_at[i - 1]]
    gaps = [b - a for a, b in zip(changes, changes[1:], strict=False)]
    assert gaps[:3] == sorted(gaps[:3]) and gaps[-1] == 10
    # the seed comes up: the next attempt joins
    seed = DhtNode(clock=net.clock, rng=random.Random(5), settings=net.settings)  # type: ignore[arg-type]
    seed.layers[0].attached = True
    net.network.listen(seed.protocol, ("10.99.0.1", 14441))
    net.settle(20)
    assert node.bootstrap_state == "joined" and node.layers[0].joined
    assert seed.layers[0].table.get(node.node_id) is not None


def test_a_node_without_seeds_is_the_first_of_its_network() -> None:
    net = Net()
    node = net.add(join=False)
    node.join([])
    assert node.status()["bootstrap"]["state"] == "no-seeds"
    outcome = net.wait(node.set_value("alone", value(), ttl=60))
    assert outcome.success and net.wait(node.get_value("alone")).value is not None


def test_requests_on_layers_a_node_does_not_serve_are_refused() -> None:
    net = Net().build(2)
    errors: list = []
    net.nodes[1].protocol.request(sim_address(0), 7, "ping", {}).addErrback(errors.append)
    net.settle(5)
    assert errors[0].value.code == "layer-inactive"


def test_status_reports_every_layer() -> None:
    net = Net().build(4)
    net.wait(net.nodes[1].set_value("s", value(), ttl=60))
    status = net.nodes[1].status()
    layer = status["layers"][0]
    assert set(layer) >= {
        "layer_id",
        "data_store_items",
        "node_items",
        "node_id",
        "buckets",
        "contacts",
        "attached",
        "active",
        "packets_received",
        "packets_sent",
        "rpc_calls",
        "rpc_responses",
    }
    assert layer["attached"] and layer["node_items"] == 3 and layer["data_store_items"] == 1
    assert status["bytes_sent"] > 0 and status["bootstrap"]["state"] == "joined"


def test_bad_expire_is_a_bad_request() -> None:
    from bitdust.main.errors import InvalidInput

    net = Net().build(2)
    failures: list = []
    net.nodes[1].set_value("x", value(), ttl=0).addErrback(failures.append)
    assert failures[0].check(InvalidInput)


def test_seeds_that_were_down_at_join_are_asked_again_until_they_answer() -> None:
    net = Net(settings=DhtSettings(rpc_timeout=2.0, backoff_min=1.0, backoff_max=8.0))
    first = net.add(join=False)
    first.join([])
    node = net.add(join=False)
    node.join([sim_address(0), ("10.99.0.2", 14441)])
    net.settle(3)
    status = node.status()["bootstrap"]
    assert status["state"] == "joined" and status["seeds_down"] == ["10.99.0.2:14441"]
    assert status["next_retry_in"] is not None
    late = DhtNode(clock=net.clock, rng=random.Random(8), settings=net.settings)  # type: ignore[arg-type]
    late.layers[0].attached = True
    net.network.listen(late.protocol, ("10.99.0.2", 14441))
    net.settle(30)
    status = node.status()["bootstrap"]
    assert status["seeds_down"] == [] and status["next_retry_in"] is None
    assert ("10.99.0.2", 14441) in node.seed_contacts


def test_a_node_joining_next_to_a_key_is_handed_the_value_at_once() -> None:
    net = Net().build(20, seeds=2)
    outcome = net.wait(net.nodes[5].set_value("handover", value(text="kept"), ttl=3600))
    assert outcome.success
    # A newcomer whose id is the key's own position is the closest node there can be.
    newcomer = net.add(seeds=2, node_id=key_hash("handover"))
    item = newcomer.store.get(0, "handover", net.clock.now)
    assert item is not None and records.decode_record(item.value, "skip_validation")["text"] == "kept"
    # exactly one holder passed it on, and well before any republish
    assert sum(node.handed_over for node in net.nodes) == 1
    assert net.clock.now < net.settings.republish_interval
