"""A node with service_supplier answers real RequestService/CancelService packets from other nodes.

node-1 is the supplier (64 MB donated), node-2 the customer, node-3 a hostile peer; packets go
through the nodes' own gateways, the supplier is watched through its API.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet import defer

from bitdust.dht.records import sign_record
from bitdust.p2p import commands
from bitdust.p2p.errors import DeliveryFailed
from bitdust.testing.network import Network, NetworkNode, poll, start_network

WAIT = 30.0
MB = 1024 * 1024
DONATED = 64 * MB


@pytest_twisted.async_yield_fixture
async def network(tmp_path: Path) -> AsyncIterator[Network]:
    net = await start_network(
        tmp_path / "net",
        nodes=3,
        id_servers=1,
        dht_seeds=1,
        options={"services/supplier/enabled": "true", "services/supplier/donated-space": "64 MB"},
    )
    try:
        yield net
    finally:
        await net.stop()


def send(node: NetworkNode, command: str, to: NetworkNode, payload: object) -> defer.Deferred[Any]:
    """Send from ``node``'s gateway; fires with the Ack payload decoded, or the Fail text as a str."""
    assert node.engine is not None
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    gateway = node.engine.p2p.require_gateway()
    d = gateway.send(command, to.idurl, raw, timeout=15, retries=1)

    def failed(failure: Any) -> str:
        failure.trap(DeliveryFailed)
        return failure.getErrorMessage()

    return d.addCallbacks(lambda ack: json.loads(ack.payload), failed)


def request(customer: NetworkNode, **fields: Any) -> dict[str, Any]:
    payload = {
        "service": "service_supplier",
        "customer_id": customer.idurl,
        "needed_bytes": MB,
        "ecc_map": "ecc/4x4",
        "position": 2,
        "family": None,
    }
    payload.update(fields)
    return payload


def family(customer: NetworkNode, signer: NetworkNode, suppliers: list[str]) -> dict[str, Any]:
    """A ``suppliers`` record naming ``customer``, signed by ``signer``'s master key."""
    assert signer.engine is not None
    master = signer.engine.keys.master()
    assert master is not None
    record = {
        "type": "suppliers",
        "customer_idurl": customer.idurl,
        "publisher_idurl": customer.idurl,
        "ecc_map": "ecc/4x4",
        "suppliers": suppliers,
        "revision": 1,
        "timestamp": int(time.time()),
    }
    return sign_record(f"suppliers:{customer.idurl}", record, master.key)


def events_of(node: NetworkNode, seen: list[tuple[str, Any]]) -> None:
    assert node.engine is not None
    node.engine.events.subscribe(lambda event: seen.append((event["id"], event.get("data"))))


@pytest_twisted.inlineCallbacks
def test_a_supplier_answers_requests_refusals_and_cancels(network: Network) -> None:
    supplier, customer, hostile = network.nodes
    assert supplier.engine is not None
    yield poll(lambda: supplier.api("space_donated").addCallback(lambda a: a[0] == 200), timeout=WAIT, what="supplier")
    seen: list[tuple[str, Any]] = []
    events_of(supplier, seen)

    answer = yield send(customer, commands.REQUEST_SERVICE, supplier, request(customer))
    assert answer == {"result": "accepted", "allocated_bytes": MB}
    rows = yield supplier.call("customers_list")
    assert rows == [
        {
            "position": 2,
            "global_id": customer.global_id,
            "idurl": customer.idurl,
            "contact_state": rows[0]["contact_state"],
        }
    ]
    assert seen[-1][0] == "new-customer-accepted"

    too_much = yield send(customer, commands.REQUEST_SERVICE, supplier, request(customer, needed_bytes=100 * MB))
    assert f"not enough space: {DONATED} bytes free, {100 * MB} needed" in too_much
    assert seen[-1][0] == "existing-customer-denied"

    others = [supplier.idurl, hostile.idurl, "", ""]  # four positions of ecc/4x4, two still empty
    bad = {
        "another customer's id": (request(customer, customer_id=hostile.idurl), "not the sender"),
        "negative needed_bytes": (request(customer, needed_bytes=-1), "needed_bytes"),
        "huge needed_bytes": (request(customer, needed_bytes=10**30), "needed_bytes"),
        "needed_bytes as text": (request(customer, needed_bytes="5"), "needed_bytes"),
        "unknown ecc map": (request(customer, ecc_map="ecc/5x5"), "unknown ECC map"),
        "position out of range": (request(customer, position=4), "'position'"),
        "family not an object": (request(customer, family=[1]), "'family'"),
        "family signed by another": (request(customer, family=family(customer, hostile, others)), "not signed"),
        "family malformed": (
            request(customer, family={"type": "suppliers", "customer_idurl": customer.idurl}),
            "not valid",
        ),
        "not JSON": (b"\xff", "not strict JSON"),
        "unknown service": (request(customer, service="service_nothing"), "not offered"),
    }
    for case, (payload, reason) in bad.items():
        refused = yield send(customer, commands.REQUEST_SERVICE, supplier, payload)
        assert isinstance(refused, str) and reason in refused, (case, refused)
    rows = yield supplier.call("customers_list", verbose=True)
    assert [(r["idurl"], r["allocated"], r["position"]) for r in rows] == [(customer.idurl, MB, 2)], "nothing changed"

    renewed = yield send(
        customer,
        commands.REQUEST_SERVICE,
        supplier,
        request(customer, needed_bytes=2 * MB, family=family(customer, customer, others)),
    )
    assert renewed == {"result": "accepted", "allocated_bytes": 2 * MB}
    assert seen[-1][0] == "existing-customer-accepted"

    forged_cancel = yield send(
        hostile, commands.CANCEL_SERVICE, supplier, {"service": "service_supplier", "customer_id": customer.idurl}
    )
    assert isinstance(forged_cancel, str) and "not the sender" in forged_cancel
    strangers_cancel = yield send(
        hostile, commands.CANCEL_SERVICE, supplier, {"service": "service_supplier", "customer_id": hostile.idurl}
    )
    assert isinstance(strangers_cancel, str) and "not a customer" in strangers_cancel
    assert (yield supplier.call("space_donated"))["consumed"] == 2 * MB

    cancelled = yield send(
        customer, commands.CANCEL_SERVICE, supplier, {"service": "service_supplier", "customer_id": customer.idurl}
    )
    assert cancelled == {"result": "cancelled"}
    assert (yield supplier.call("customers_list")) == []
    assert seen[-1][0] == "existing-customer-terminated"


@pytest_twisted.inlineCallbacks
def test_space_figures_add_up_and_customer_reject_leaves_no_file(network: Network) -> None:
    supplier, customer, other = network.nodes
    assert supplier.engine is not None and customer.engine is not None
    yield poll(lambda: supplier.api("space_donated").addCallback(lambda a: a[0] == 200), timeout=WAIT, what="supplier")
    for node, needed in ((customer, 3 * MB), (other, 5 * MB)):
        accepted = yield send(node, commands.REQUEST_SERVICE, supplier, request(node, needed_bytes=needed))
        assert accepted["result"] == "accepted"
    space = supplier.engine.supplier
    assert space is not None
    yield space.write(customer.idurl, "0/0/F1/0-0-Data", b"x" * 1000)
    yield space.write(customer.idurl, "0/0/F1/1-0-Data", b"y" * 500)
    yield space.write(other.idurl, "0/0/F2/0-0-Data", b"z" * 300)

    donated = yield supplier.call("space_donated")
    assert donated["customers_num"] == 2 and donated["donated"] == DONATED
    assert donated["used"] + donated["free"] == donated["donated"]
    assert sum(c["used"] for c in donated["customers"]) == donated["used"] == 1800
    assert sum(c["consumed"] for c in donated["customers"]) == donated["consumed"] == 8 * MB
    assert donated["real"] == 1800
    local = yield supplier.call("space_local")
    assert local["customers"] == 1800 and local["donated"] == DONATED

    code, body = yield supplier.api("customer_reject", customer_id="nobody@127.0.0.1_1")
    assert code == 404, body
    code, body = yield supplier.api("customer_reject", customer_id="not an id")
    assert code == 400 and body["errors"], body

    folder = supplier.home / "customers" / customer.global_id
    assert folder.is_dir()
    rejected = yield supplier.call("customer_reject", customer_id=customer.global_id)
    assert rejected["idurl"] == customer.idurl
    assert not folder.exists(), "no file of the rejected customer is left"
    assert [r["idurl"] for r in (yield supplier.call("customers_list"))] == [other.idurl]
    after = yield supplier.call("space_donated")
    assert after["used"] == 300 and after["consumed"] == 5 * MB

    def told() -> bool:
        gateway = customer.engine.p2p.require_gateway()
        return any(row["command"] == commands.CANCEL_SERVICE for row in gateway.recent_in)

    yield poll(told, timeout=WAIT, what="the customer to be told it was rejected")
    pings = yield supplier.call("customers_ping")
    assert [(p["idurl"], p["result"]) for p in pings] == [(other.idurl, "connected")]


@pytest_twisted.inlineCallbacks
def test_the_patrol_drops_an_idle_customer(network: Network) -> None:
    supplier, customer, _other = network.nodes
    assert supplier.engine is not None
    yield poll(lambda: supplier.api("space_donated").addCallback(lambda a: a[0] == 200), timeout=WAIT, what="supplier")
    accepted = yield send(customer, commands.REQUEST_SERVICE, supplier, request(customer))
    assert accepted["result"] == "accepted"
    space = supplier.engine.supplier
    assert space is not None
    patrol = supplier.engine.services.get("service_customer_patrol")
    assert (yield patrol.patrol()) == [], "a customer heard from just now stays"
    entry = space.get(customer.idurl)
    long_ago = supplier.engine.reactor.seconds() - 15 * 24 * 3600
    entry.last_seen = entry.since = long_ago
    yield customer.call("user_ping", user_id=supplier.global_id, timeout=10)
    assert space.get(customer.idurl).last_seen > long_ago, "every packet from the customer counts as seen"
    assert (yield patrol.patrol()) == []
    entry.last_seen = long_ago
    dropped = yield patrol.patrol()
    assert [e.idurl for e in dropped] == [customer.idurl]
    assert (yield supplier.call("customers_list")) == []
    assert not (supplier.home / "customers" / customer.global_id).exists()


@pytest_twisted.inlineCallbacks
def test_a_supplier_is_on_dht_layer_3_and_donates_at_least_64_mb(network: Network) -> None:
    supplier = network.nodes[0]
    yield poll(lambda: supplier.api("space_donated").addCallback(lambda a: a[0] == 200), timeout=WAIT, what="supplier")

    def on_layer_3() -> defer.Deferred[bool]:
        d = supplier.call("network_status", dht=True)
        return d.addCallback(lambda s: any(x["layer_id"] == 3 and x["attached"] for x in s["dht"]["layers"]))

    yield poll(on_layer_3, timeout=WAIT, what="the supplier to attach DHT layer 3")
    code, body = yield supplier.api("config_set", key="services/supplier/donated-space", value="1 MB")
    assert code == 400 and body["errors"], body
    yield supplier.call("config_set", key="services/supplier/donated-space", value="128 MB")
    assert (yield supplier.call("space_donated"))["donated"] == 128 * MB


@pytest_twisted.inlineCallbacks
def test_a_stopped_supplier_offers_nothing_and_keeps_its_record(network: Network) -> None:
    supplier, customer, _other = network.nodes
    assert supplier.engine is not None
    yield poll(lambda: supplier.api("space_donated").addCallback(lambda a: a[0] == 200), timeout=WAIT, what="supplier")
    accepted = yield send(customer, commands.REQUEST_SERVICE, supplier, request(customer))
    assert accepted["result"] == "accepted"
    yield supplier.call("service_stop", service_name="service_supplier")
    yield poll(lambda: supplier.engine is not None and supplier.engine.supplier is None, timeout=WAIT, what="stop")
    code, _body = yield supplier.api("customers_list")
    assert code == 503
    refused = yield send(customer, commands.REQUEST_SERVICE, supplier, request(customer))
    assert isinstance(refused, str) and "not offered" in refused
    yield supplier.call("service_start", service_name="service_supplier")
    yield poll(lambda: supplier.api("customers_list").addCallback(lambda a: a[0] == 200), timeout=WAIT, what="start")
    assert [r["idurl"] for r in (yield supplier.call("customers_list"))] == [customer.idurl]
