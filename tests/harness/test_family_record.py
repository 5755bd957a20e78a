"""Must-show 7 of issue 13 in one process: a family record published, read through the API, attacked.

node-1 is the customer (node-2 and node-3 named as its suppliers); node-3 turns hostile and sends
STOREs straight to every DHT node, past its own node's checks: a record of node-1 signed by its
own key, a replay of node-1's older record, and a malformed one. Every DHT node refuses each (and
counts it against node-3), and ``suppliers_dht_lookup`` on node-2 only ever answers the newest
genuine record.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import defer

from bitdust.dht.errors import RpcError
from bitdust.dht.family_record import FAMILY_TYPE, build_record, family_key
from bitdust.dht.limits import sender_of
from bitdust.dht.records import canonical_json
from bitdust.services.service_entangled_dht import dht_service
from bitdust.testing.network import Network, NetworkNode, poll
from tests.harness.test_network import WAIT, joined


def _master(node: NetworkNode) -> Any:
    master = node.require_engine().keys.master()  # type: ignore[attr-defined]
    assert master is not None
    return master.key


def _dht_address(member: NetworkNode) -> tuple[str, int]:
    return ("127.0.0.1", int(member.record.extra["dht_port"]))


def _dht_members(network: Network) -> list[NetworkNode]:
    return [m for m in network.members if "dht_port" in m.record.extra]


def hostile_store(network: Network, hostile: NetworkNode, record: dict[str, Any]) -> defer.Deferred[list[str]]:
    """``hostile`` asks every other DHT node to STORE ``record``; fires with each node's error code."""
    node = dht_service(hostile.require_engine()).node  # type: ignore[arg-type, union-attr]
    assert node is not None
    args = {"k": family_key(record["customer_idurl"]), "v": canonical_json(record), "t": FAMILY_TYPE, "ttl": 600}
    args["p"] = node.node_id
    calls = [
        node.protocol.request(_dht_address(m), 0, "store", args) for m in _dht_members(network) if m is not hostile
    ]

    def codes(results: list[tuple[bool, Any]]) -> list[str]:
        return [
            answer.value.code if not ok and answer.check(RpcError) else f"kept: {answer!r}" for ok, answer in results
        ]

    return defer.DeferredList(calls, consumeErrors=True).addCallback(codes)


@pytest_twisted.inlineCallbacks
def test_only_the_newest_genuine_family_record_is_ever_answered(network: Network) -> None:
    customer, reader, hostile = network.nodes
    for member in network.nodes:
        yield poll(lambda m=member: joined(m), timeout=WAIT, what=f"{member.name} to join the DHT")
    me, suppliers = customer.idurl, [reader.idurl, hostile.idurl]
    families = dht_service(customer.require_engine()).families  # type: ignore[arg-type, union-attr]
    assert families is not None

    code, body = yield reader.api("suppliers_dht_lookup", customer_id=customer.global_id)
    assert code == 404 and body["status"] == "ERROR", body
    code, body = yield reader.api("suppliers_dht_lookup", customer_id="not a user")
    assert code == 400 and "invalid user" in body["errors"][0], body

    old = yield customer.require_engine().run_blocking(build_record, me, "ecc/2x2", suppliers, 1, _master(customer))
    for revision, published in ((1, old), (2, None)):

        def publish(revision: int = revision, published: Any = published) -> defer.Deferred[Any]:
            if published is not None:
                d = families.publish_record(canonical_json(published))
            else:
                d = families.publish(me, "ecc/2x2", suppliers[::-1], revision, _master(customer))
            return d.addCallback(lambda outcome: outcome.success)

        yield poll(publish, timeout=WAIT, what=f"node-1 to publish revision {revision}")

    def newest() -> defer.Deferred[Any]:
        d = reader.api("suppliers_dht_lookup", customer_id=customer.global_id)
        return d.addCallback(lambda answer: answer[1]["result"] if answer[0] == 200 else None)

    found = yield poll(
        lambda: newest().addCallback(lambda r: r if r and r["revision"] == 2 else None), timeout=WAIT, what="revision 2"
    )
    assert found == {
        "suppliers": suppliers[::-1],
        "ecc_map": "ecc/2x2",
        "customer_idurl": me,
        "revision": 2,
        "publisher_idurl": me,
        "timestamp": found["timestamp"],
    }

    unsigned = {k: v for k, v in old.items() if k != "signature"}
    forged = yield hostile.require_engine().run_blocking(
        build_record, me, "ecc/2x2", [hostile.idurl, ""], 9, _master(hostile)
    )
    malformed = yield customer.require_engine().run_blocking(
        build_record, me, "ecc/2x2", [hostile.idurl, hostile.idurl], 10, _master(customer)
    )
    assert unsigned["revision"] == 1
    for record, code in ((forged, "record:signature"), (old, "record:revision"), (malformed, "record:content")):
        codes = yield hostile_store(network, hostile, record)
        # a node that never held revision 2 cannot know revision 1 is old: only those that did refuse it
        if code == "record:revision":
            assert set(codes) <= {code, f"kept: {None!r}"} and code in codes, codes
        else:
            assert codes and set(codes) == {code}, codes
        answer = yield newest()
        assert answer is not None and answer["revision"] == 2 and answer["suppliers"] == suppliers[::-1], answer

    hostile_sender = sender_of(_dht_address(hostile))
    for member in _dht_members(network):
        if member is hostile:
            continue
        service = dht_service(member.require_engine())  # type: ignore[arg-type]
        assert service is not None and service.node is not None
        counted = service.node.admission.refusals.of(hostile_sender)
        assert counted.get("record:signature") == 1 and counted.get("record:content") == 1, (member.name, counted)
    code, body = yield reader.api("network_status", dht=True)
    assert body["result"]["dht"]["store_refusals"]["by_reason"]["record:signature"] == 1, body
