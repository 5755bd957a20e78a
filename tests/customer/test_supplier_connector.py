"""The supplier_connector machine (automats/supplier_connector.md) alone, every edge, on a task.Clock."""

from __future__ import annotations

import pytest
from twisted.internet import defer, task

from bitdust.automats.registry import AutomatRegistry
from bitdust.customer.collaborators import ServiceRequest
from bitdust.customer.errors import SupplierRefused
from bitdust.customer.supplier_connector import SupplierConnector
from bitdust.errors import Unreachable
from tests.customer.fakes import CUSTOMER, FakeEvents, FakeRequester, FakeWatcher, supplier

SUPPLIER = supplier(1)


class Harness:
    def __init__(self, *, online: bool = True, max_attempts: int = 3) -> None:
        self.clock = task.Clock()
        self.requester = FakeRequester()
        self.watcher = FakeWatcher(self.clock)
        self.watcher.add(SUPPLIER, online=online)
        self.events = FakeEvents()
        self.registry = AutomatRegistry(strict=True)
        self.revision = 1
        self.connector = SupplierConnector(
            SUPPLIER,
            customer_id=CUSTOMER,
            make_request=self.request,
            requester=self.requester,
            watcher=self.watcher,
            events=self.events,
            request_timeout=10.0,
            retry_delay=2.0,
            max_retry_delay=5.0,
            max_attempts=max_attempts,
            clock=self.clock,
            registry=self.registry,
        )

    def request(self) -> ServiceRequest:
        family = {"revision": self.revision}
        return ServiceRequest(CUSTOMER, needed_bytes=1000, ecc_map="ecc/2x2", position=1, family=family)

    def connected(self) -> SupplierConnector:
        self.connector.connect()
        self.requester.take().callback(500)
        assert self.connector.state == "CONNECTED"
        return self.connector

    def requesting(self) -> SupplierConnector:
        self.connector.connect()
        assert self.connector.state == "REQUEST"
        return self.connector

    def no_service(self) -> SupplierConnector:
        c = self.requesting()
        for _ in range(c.max_attempts - 1):
            self.requester.take().errback(Unreachable("no route"))
            self.clock.advance(5)
        self.requester.take().errback(Unreachable("no route"))
        assert c.state == "NO_SERVICE"
        return c

    def refused(self) -> SupplierConnector:
        c = self.requesting()
        self.requester.take().errback(SupplierRefused(SUPPLIER, "not enough space"))
        assert c.state == "REFUSED"
        return c


def test_the_connector_is_visible_in_the_registry_and_sends_the_shared_payload() -> None:
    h = Harness()
    assert h.registry.find("supplier_connector") == [h.connector]
    h.connector.connect()
    supplier_id, request = h.requester.requests[0]
    assert supplier_id == SUPPLIER
    assert request.payload() == {
        "service": "service_supplier",
        "customer_id": CUSTOMER,
        "needed_bytes": 1000,
        "ecc_map": "ecc/2x2",
        "position": 1,
        "family": {"revision": 1},
    }
    assert h.connector.to_json()["position"] == 1


def test_disconnected_connect_requests_and_accepted_is_connected() -> None:
    h = Harness()
    c = h.connected()
    assert c.allocated_bytes == 500 and c.problem is None
    assert h.events.ids() == ["supplier-connected"]
    assert h.events.sent[0][1]["supplier_idurl"] == SUPPLIER


def test_request_refused_is_refused_with_the_reason() -> None:
    h = Harness()
    c = h.refused()
    assert c.problem == "refused: not enough space"
    assert h.events.ids() == []


def test_request_failed_retries_after_a_doubling_backoff_then_gives_up() -> None:
    h = Harness(max_attempts=3)
    c = h.requesting()
    h.requester.take().errback(Unreachable("connection refused"))
    assert c.state == "DISCONNECTED" and c.problem == "connection refused"
    h.clock.advance(1.9)
    assert len(h.requester.requests) == 1
    h.clock.advance(0.1)  # retry after 2 s
    assert c.state == "REQUEST" and len(h.requester.requests) == 2
    h.requester.take().errback(Unreachable("connection refused"))
    h.clock.advance(3.9)
    assert len(h.requester.requests) == 2
    h.clock.advance(0.1)  # then 4 s
    assert c.state == "REQUEST" and len(h.requester.requests) == 3
    h.requester.take().errback(Unreachable("connection refused"))
    assert c.state == "NO_SERVICE"
    assert c.problem == "no service after 3 attempts: connection refused"
    h.clock.advance(100)
    assert len(h.requester.requests) == 3


def test_request_timeout_retries_and_a_late_answer_changes_nothing() -> None:
    h = Harness(max_attempts=2)
    c = h.requesting()
    late = h.requester.pending[0][1]
    h.clock.advance(10)
    assert c.state == "DISCONNECTED" and late.called  # abandoned: cancelled
    h.clock.advance(2)
    assert c.state == "REQUEST"
    h.clock.advance(10)
    assert c.state == "NO_SERVICE" and "no answer within 10 s" in (c.problem or "")


def test_contact_offline_while_requesting_abandons_and_online_requests_again() -> None:
    h = Harness()
    c = h.requesting()
    h.watcher.set_online(SUPPLIER, False)
    assert c.state == "DISCONNECTED" and c.problem == "the supplier went offline"
    h.clock.advance(100)
    assert len(h.requester.requests) == 1  # no retry while away
    h.watcher.set_online(SUPPLIER, True)
    assert c.state == "REQUEST" and c.attempts == 1


def test_connected_contact_offline_is_disconnected_and_reported() -> None:
    h = Harness()
    c = h.connected()
    h.watcher.set_online(SUPPLIER, False)
    assert c.state == "DISCONNECTED"
    assert h.events.ids() == ["supplier-connected", "supplier-disconnected"]
    h.watcher.set_online(SUPPLIER, True)
    assert c.state == "REQUEST"
    h.requester.take().callback(500)
    assert h.events.ids()[-1] == "supplier-connected"


def test_a_new_request_carries_the_family_as_it_is_now() -> None:
    h = Harness()
    h.connected()
    h.revision = 2
    h.watcher.set_online(SUPPLIER, False)
    h.watcher.set_online(SUPPLIER, True)
    assert h.requester.requests[-1][1].family == {"revision": 2}


@pytest.mark.parametrize("where", ["DISCONNECTED", "REQUEST", "CONNECTED", "NO_SERVICE"])
def test_rejected_by_the_supplier_is_refused(where: str) -> None:
    h = Harness()
    c = {
        "DISCONNECTED": lambda: h.connector,
        "REQUEST": h.requesting,
        "CONNECTED": h.connected,
        "NO_SERVICE": h.no_service,
    }[where]()
    c.rejected(reason="customer rejected by the supplier's owner")
    assert c.state == "REFUSED"
    assert c.problem == "rejected: customer rejected by the supplier's owner"
    if where == "CONNECTED":
        assert h.events.ids()[-1] == "supplier-disconnected"


def test_no_service_connect_and_contact_online_start_again() -> None:
    h = Harness()
    c = h.no_service()
    c.connect()
    assert c.state == "REQUEST" and c.attempts == 1
    h2 = Harness()
    c2 = h2.no_service()
    h2.watcher.set_online(SUPPLIER, False)
    assert c2.state == "NO_SERVICE"
    h2.watcher.set_online(SUPPLIER, True)
    assert c2.state == "REQUEST" and c2.attempts == 1


def test_disconnected_contact_online_requests() -> None:
    h = Harness(online=False)
    h.watcher.set_online(SUPPLIER, True)
    assert h.connector.state == "REQUEST"


def test_refused_connect_asks_again() -> None:
    h = Harness()
    c = h.refused()
    h.watcher.set_online(SUPPLIER, False)  # ignored while refused
    c.connect()
    assert c.state == "REQUEST" and len(h.requester.requests) == 2


@pytest.mark.parametrize("where", ["DISCONNECTED", "NO_SERVICE", "REFUSED"])
def test_close_without_an_allocation_sends_nothing(where: str) -> None:
    h = Harness()
    c = {"DISCONNECTED": lambda: h.connector, "NO_SERVICE": h.no_service, "REFUSED": h.refused}[where]()
    c.close()
    assert c.state == "CLOSED" and c.destroyed
    assert h.requester.cancels == []
    assert h.watcher.watchers[SUPPLIER] == []
    assert len(h.registry) == 0


def test_close_connected_cancels_the_service_and_reports_disconnected() -> None:
    h = Harness()
    c = h.connected()
    c.close()
    assert c.state == "CLOSED" and h.requester.cancels == [SUPPLIER]
    assert h.events.ids() == ["supplier-connected", "supplier-disconnected"]
    h.watcher.set_online(SUPPLIER, False)  # no longer watched: nothing happens


def test_detach_closes_without_cancelling_so_the_supplier_stays_hired() -> None:
    # The node stops: the supplier keeps our allocation for the next start.
    h = Harness()
    c = h.connected()
    c.detach()
    assert c.state == "CLOSED" and c.destroyed and h.requester.cancels == []
    assert h.watcher.watchers[SUPPLIER] == []


def test_close_while_requesting_cancels_and_ignores_the_late_answer() -> None:
    h = Harness()
    c = h.requesting()
    d: defer.Deferred[int] = h.requester.pending[0][1]
    c.close()
    assert c.state == "CLOSED" and h.requester.cancels == [SUPPLIER]
    assert d.called
    assert h.events.ids() == []


def test_a_requester_that_raises_is_a_failed_attempt_not_a_crash() -> None:
    h = Harness()

    def broken(supplier_id: str, request: ServiceRequest) -> defer.Deferred[int]:
        raise RuntimeError("no transport")

    h.requester.auto = broken
    h.connector.connect()
    assert h.connector.state == "DISCONNECTED" and h.connector.problem == "no transport"
