"""A fake network of suppliers for fire_hire: presence, answers and DHT layer 3, all on one task.Clock."""

from __future__ import annotations

import random
from typing import Any

from twisted.internet import defer, task

from bitdust.automats.registry import AutomatRegistry
from bitdust.customer.collaborators import Family, ServiceRequest
from bitdust.customer.errors import SupplierRefused
from bitdust.customer.fire_hire import FireHire, Settings
from bitdust.customer.refused_memory import RefusedMemory
from bitdust.customer.supplier_finder import SupplierFinder
from bitdust.errors import Unreachable
from tests.customer.fakes import CUSTOMER, FakeDht, FakeEvents, FakeRequester, FakeStore, FakeWatcher, supplier


class Network:
    """``count`` suppliers, all online and accepting; a test changes ``behaviour`` (accept, refuse,
    hang) and presence (``watcher.set_online``). Hung requests are kept in ``hung``."""

    def __init__(self, count: int, *, seed: int = 1) -> None:
        self.clock = task.Clock()
        self.random = random.Random(seed)
        self.watcher = FakeWatcher(self.clock)
        self.requester = FakeRequester()
        self.requester.auto = self.answer
        self.dht = FakeDht()
        self.dht.source = self.live_nodes
        self.events = FakeEvents()
        self.store = FakeStore()
        self.registry = AutomatRegistry(strict=True)
        self.suppliers = [supplier(number) for number in range(count)]
        self.behaviour: dict[str, str] = {}
        self.hung: list[tuple[str, defer.Deferred[int]]] = []
        self.watcher.add(CUSTOMER)
        for idurl in self.suppliers:
            self.watcher.add(idurl)

    def answer(self, supplier_id: str, request: ServiceRequest) -> defer.Deferred[int]:
        if not self.watcher.is_online(supplier_id):
            return defer.fail(Unreachable(f"{supplier_id} did not answer"))
        behaviour = self.behaviour.get(supplier_id, "accept")
        if behaviour == "refuse":
            return defer.fail(SupplierRefused(supplier_id, "not enough space: 10 bytes free"))
        if behaviour == "hang":
            d: defer.Deferred[int] = defer.Deferred()
            self.hung.append((supplier_id, d))
            return d
        return defer.succeed(request.needed_bytes)

    def live_nodes(self, count: int) -> list[str]:
        online = [idurl for idurl in self.suppliers if self.watcher.is_online(idurl)]
        return self.random.sample(online, min(count, len(online)))

    def fire_hire(
        self,
        number: int = 4,
        *,
        family: Family | None = None,
        candidates: tuple[str, ...] = (),
        offline_seconds: float = 60.0,
        **settings: Any,
    ) -> FireHire:
        self.number = number
        self.candidates = list(candidates)
        self.offline_seconds = offline_seconds
        self.refused = RefusedMemory(self.clock, ttl=120.0)
        self.finder = SupplierFinder(
            own_id=CUSTOMER,
            candidates=lambda: self.candidates,
            dht=self.dht,
            refused=self.refused,
            clock=self.clock,
            registry=self.registry,
        )
        return FireHire(
            own_id=CUSTOMER,
            settings=Settings(
                suppliers_number=lambda: self.number,
                needed_bytes=lambda: 4000,
                offline_seconds=lambda: self.offline_seconds,
                hire_retry_delay=30.0,
                request_timeout=10.0,
                retry_delay=2.0,
                max_retry_delay=8.0,
                max_attempts=3,
                **settings,
            ),
            family=family,
            family_record=lambda: {"revision": len(self.store.saved)},
            finder=self.finder,
            refused=self.refused,
            requester=self.requester,
            watcher=self.watcher,
            store=self.store,
            events=self.events,
            clock=self.clock,
            registry=self.registry,
        )
