"""The supplier_finder machine (automats/supplier_finder.md) alone, every edge, and its refused memory."""

from __future__ import annotations

import pytest
from twisted.internet import defer, task
from twisted.python.failure import Failure

from bitdust.customer.errors import SupplierNotFound
from bitdust.customer.options import SUPPLIERS_DHT_LAYER
from bitdust.customer.refused_memory import RefusedMemory
from bitdust.customer.supplier_finder import SupplierFinder
from bitdust.errors import Conflict, Unreachable
from tests.customer.fakes import CUSTOMER, FakeDht, supplier


class Harness:
    def __init__(self, *, candidates: list[str] | None = None, batches: list[list[str]] | None = None, tries: int = 5):
        self.clock = task.Clock()
        self.config = list(candidates or [])
        self.dht = FakeDht(batches)
        self.refused = RefusedMemory(self.clock, ttl=60.0, limit=3)
        self.finder = SupplierFinder(
            own_id=CUSTOMER,
            candidates=lambda: self.config,
            dht=self.dht,
            refused=self.refused,
            max_tries=tries,
            batch=4,
            clock=self.clock,
            strict=True,
        )

    def find(self, exclude: tuple[str, ...] = ()) -> tuple[list[str], list[Failure]]:
        found: list[str] = []
        failed: list[Failure] = []
        self.finder.search(exclude).addCallbacks(found.append, failed.append)
        return found, failed


def test_configured_candidates_come_first_in_their_order() -> None:
    h = Harness(candidates=[supplier(1), supplier(2)], batches=[[supplier(9)]])
    found, _ = h.find()
    assert found == [supplier(1)] and h.finder.state == "READY"
    assert h.dht.calls == []


def test_family_members_ourselves_and_refused_are_skipped() -> None:
    h = Harness(candidates=[CUSTOMER, supplier(1), supplier(2), "", supplier(3)], tries=10)
    h.refused.remember(supplier(2), "not enough space")
    found, _ = h.find(exclude=(supplier(1),))
    assert found == [supplier(3)]
    assert h.finder.tries == 5


def test_then_random_live_nodes_of_dht_layer_3() -> None:
    h = Harness(candidates=[supplier(1)], batches=[[supplier(1), supplier(5)]])
    found, _ = h.find(exclude=(supplier(1),))
    assert found == [supplier(5)]
    assert h.dht.calls == [(SUPPLIERS_DHT_LAYER, 4)]


def test_a_search_fails_with_a_reason_after_the_last_candidate_try() -> None:
    h = Harness(candidates=[supplier(1), supplier(2)], tries=2)
    _, failed = h.find(exclude=(supplier(1), supplier(2)))
    assert failed[0].check(SupplierNotFound)
    assert "no supplier found after 2 tries" in failed[0].getErrorMessage()
    assert "already in the family" in failed[0].getErrorMessage()
    assert h.finder.state == "READY" and h.dht.calls == []


def test_empty_lookups_count_as_tries_so_a_network_without_suppliers_ends() -> None:
    h = Harness(tries=3)
    _, failed = h.find()
    assert failed[0].check(SupplierNotFound)
    assert "the DHT knows no new node" in failed[0].getErrorMessage()
    assert len(h.dht.calls) == 3


def test_failed_lookups_are_retried_then_reported() -> None:
    h = Harness(tries=2)
    h.dht.error = Unreachable("no DHT seeds")
    _, failed = h.find()
    assert len(h.dht.calls) == 2
    assert "no DHT seeds" in failed[0].getErrorMessage()


def test_a_failed_lookup_then_a_good_one() -> None:
    h = Harness(tries=5)
    h.dht.error = Unreachable("no DHT seeds")
    results: list[defer.Deferred[object]] = []

    def once(count: int) -> list[str]:
        return [supplier(7)]

    h.finder.search().addBoth(results.append)
    assert h.finder.state == "READY"
    h.dht.error = None
    h.dht.source = once
    found, _ = h.find()
    assert found == [supplier(7)]


def test_one_search_at_a_time() -> None:
    h = Harness()
    pending: defer.Deferred[object] = defer.Deferred()
    h.dht.random_nodes = lambda layer, count, attempts=3: pending  # type: ignore[method-assign,assignment,return-value]
    h.find()
    assert h.finder.state == "SEARCH"
    with pytest.raises(Conflict):
        h.finder.search()


def test_stop_while_searching_fails_the_search_and_ignores_the_late_answer() -> None:
    h = Harness()
    pending: defer.Deferred[list[object]] = defer.Deferred()
    h.dht.random_nodes = lambda layer, count, attempts=3: pending  # type: ignore[method-assign,assignment,return-value]
    _, failed = h.find()
    h.finder.stop()
    assert h.finder.state == "CLOSED" and h.finder.destroyed
    assert "stopped" in failed[0].getErrorMessage()
    pending.callback([])


def test_stop_when_idle() -> None:
    h = Harness()
    h.finder.stop()
    assert h.finder.state == "CLOSED"


def test_the_refused_memory_expires_and_is_bounded() -> None:
    clock = task.Clock()
    memory = RefusedMemory(clock, ttl=60.0, limit=2)
    memory.remember(supplier(1), "full")
    clock.advance(30)
    memory.remember(supplier(2), "full")
    assert memory.reason(supplier(1)) == "full" and len(memory) == 2
    clock.advance(30)
    assert memory.reason(supplier(1)) is None and memory.reason(supplier(2)) == "full"
    memory.remember(supplier(3), "x")
    memory.remember(supplier(4), "y")
    assert len(memory) == 2 and memory.reason(supplier(2)) is None
