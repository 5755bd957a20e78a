"""A node with service_customer hires, keeps and replaces a family of real suppliers, in one process.

node-1 is the customer; node-2 .. node-7 are suppliers (64 MB donated each). Everything goes
through the nodes' real services: RequestService over the gateways, DHT layer 3 for the finder,
the signed family record on the DHT, the suppliers' FamilyKeepers. Waits poll with a deadline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet import defer

from bitdust.services.service_supplier import SupplierService
from bitdust.testing.network import Network, NetworkNode, poll, start_network

WAIT = 60.0
MB = 1024 * 1024
SUPPLIER_OPTIONS = {"services/supplier/enabled": "true", "services/supplier/donated-space": "64 MB"}


@pytest_twisted.async_yield_fixture
async def network(tmp_path: Path) -> AsyncIterator[Network]:
    net = await start_network(tmp_path / "net", nodes=7, id_servers=1, dht_seeds=1, options=SUPPLIER_OPTIONS)
    try:
        yield net
    finally:
        await net.stop()


@defer.inlineCallbacks
def make_customer(node: NetworkNode, number: int = 4, **options: Any) -> Generator[Any, Any, None]:
    """Turn ``node`` into a customer of ``number`` suppliers (offline suppliers replaced after 2 s)."""
    settings = {
        "services/customer/suppliers-number": number,
        "services/customer/needed-space": "4 MB",
        "services/employer/offline-seconds": 2,
        "services/employer/hire-retry-seconds": 1,
        **options,
    }
    for key, value in settings.items():
        yield node.call("config_set", key=key, value=value)
    yield node.call("service_start", service_name="service_customer")


def connected(node: NetworkNode, number: int) -> defer.Deferred[list[dict[str, Any]] | None]:
    """The suppliers list once ``number`` positions are all CONNECTED (else None: poll again)."""

    def check(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        if len(rows) == number and all(row["connected"] for row in rows):
            return rows
        return None

    d: defer.Deferred[list[dict[str, Any]] | None] = node.call("suppliers_list").addCallback(check)
    return d


def keeper_of(node: NetworkNode) -> Any:
    assert node.engine is not None
    service = node.engine.services.get("service_supplier")
    assert isinstance(service, SupplierService) and service.keeper is not None
    return service.keeper


@defer.inlineCallbacks
def dht_family(customer: NetworkNode, revision_above: int = -1) -> Generator[Any, Any, Any]:
    code, answer = yield customer.api("suppliers_dht_lookup")
    if code != 200 or answer["result"]["revision"] <= revision_above:
        return None
    return answer["result"]


@pytest_twisted.inlineCallbacks
def test_a_customer_hires_four_suppliers_and_the_record_follows(network: Network) -> None:
    customer, *suppliers = network.nodes
    yield make_customer(customer)
    rows = yield poll(lambda: connected(customer, 4), timeout=WAIT, what="4 connected suppliers")
    assert [row["position"] for row in rows] == [0, 1, 2, 3]
    family = [row["idurl"] for row in rows]
    assert len(set(family)) == 4 and customer.idurl not in family
    assert all(row["supplier_state"] == "CONNECTED" and row["contact_state"] == "CONNECTED" for row in rows)

    record = yield poll(lambda: dht_family(customer), timeout=WAIT, what="the family record")
    assert record["suppliers"] == family and record["ecc_map"] == "ecc/4x4"
    assert record["customer_idurl"] == customer.idurl

    by_idurl = {node.idurl: node for node in suppliers}
    for idurl in family:
        hired = by_idurl[idurl]
        listed = yield hired.call("customers_list")
        assert [row["idurl"] for row in listed] == [customer.idurl]

        def kept(hired: NetworkNode = hired) -> bool:
            copy = keeper_of(hired).kept(customer.idurl)
            return copy is not None and list(copy.suppliers) == family

        yield poll(kept, timeout=WAIT, what=f"the family record kept by {hired.name}")

    status = yield customer.call("network_status", suppliers=True, customers=True)
    assert status["suppliers"]["desired"] == 4 and status["suppliers"]["connected"] == 4
    assert [peer["idurl"] for peer in status["suppliers"]["peers"]] == family
    info = yield customer.call("process_info")
    assert info["contact"]["suppliers_hired"] == 4 and info["contact"]["suppliers_active"] == 4
    consumed = yield customer.call("space_consumed")
    assert consumed["suppliers_num"] == 4 and consumed["needed"] == 4 * MB
    assert consumed["needed_per_supplier"] == 2 * MB and consumed["available"] >= consumed["needed"]
    supplier_status = yield by_idurl[family[0]].call("network_status", customers=True)
    assert supplier_status["customers"]["total"] == 1
    assert supplier_status["customers"]["peers"][0]["idurl"] == customer.idurl
