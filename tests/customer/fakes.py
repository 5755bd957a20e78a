"""Recording fakes of what the customer side's machines need (bitdust/customer/collaborators.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from bitdust.customer.collaborators import Family, ServiceRequest
from bitdust.dht.lookup import Responder
from bitdust.dht.messages import Contact

CUSTOMER = "http://127.0.0.1:8084/customer.xml"


def supplier(number: int) -> str:
    return f"http://127.0.0.1:8084/supplier{number}.xml"


class FakeRequester:
    """Each request waits for the test (``answer``/``refuse``/``fail``), unless ``auto`` answers it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, ServiceRequest]] = []
        self.pending: list[tuple[str, defer.Deferred[int]]] = []
        self.cancels: list[str] = []
        self.auto: Callable[[str, ServiceRequest], defer.Deferred[int]] | None = None

    def request_service(self, supplier_id: str, request: ServiceRequest) -> defer.Deferred[int]:
        self.requests.append((supplier_id, request))
        if self.auto is not None:
            return self.auto(supplier_id, request)
        d: defer.Deferred[int] = defer.Deferred()
        self.pending.append((supplier_id, d))
        return d

    def cancel_service(self, supplier_id: str, customer_id: str) -> defer.Deferred[None]:
        self.cancels.append(supplier_id)
        return defer.succeed(None)

    def take(self) -> defer.Deferred[int]:
        return self.pending.pop(0)[1]


class FakeWatcher:
    """Presence set by the test; ``set_online`` tells every watcher of that peer."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.known: set[str] = set()
        self.online: set[str] = set()
        self.went_offline: dict[str, float] = {}
        self.watchers: dict[str, list[Callable[[str, bool], object]]] = {}

    def add(self, idurl: str, *, online: bool = True) -> None:
        self.known.add(idurl)
        if online:
            self.online.add(idurl)
        else:
            self.went_offline[idurl] = self.clock.seconds()

    def set_online(self, idurl: str, online: bool) -> None:
        if online == (idurl in self.online):
            return
        if online:
            self.online.add(idurl)
            self.went_offline.pop(idurl, None)
        else:
            self.online.discard(idurl)
            self.went_offline[idurl] = self.clock.seconds()
        for callback in list(self.watchers.get(idurl, ())):
            callback(idurl, online)

    def is_known(self, idurl: str) -> bool:
        return idurl in self.known

    def is_online(self, idurl: str) -> bool:
        return idurl in self.online

    def offline_since(self, idurl: str) -> float | None:
        return None if idurl in self.online else self.went_offline.get(idurl, 0.0)

    def watch(self, idurl: str, callback: Callable[[str, bool], object]) -> Callable[[], None]:
        self.watchers.setdefault(idurl, []).append(callback)
        return lambda: self.watchers[idurl].remove(callback)


class FakeEvents:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send(self, event_id: str, data: object = None) -> object:
        self.sent.append((event_id, data))
        return None

    def ids(self) -> list[str]:
        return [event_id for event_id, _data in self.sent]


class FakeStore:
    def __init__(self) -> None:
        self.saved: list[Family] = []

    def save(self, family: Family) -> defer.Deferred[None]:
        self.saved.append(family)
        return defer.succeed(None)


class FakeDht:
    """``random_nodes`` answers from ``batches`` (one list per call), then empty lists; or fails."""

    def __init__(self, batches: list[list[str]] | None = None) -> None:
        self.batches = list(batches or [])
        self.calls: list[tuple[int, int]] = []
        self.error: Exception | None = None
        self.source: Callable[[int], list[str]] | None = None

    def random_nodes(self, layer: int, count: int, attempts: int = 3) -> defer.Deferred[list[Responder]]:
        self.calls.append((layer, count))
        if self.error is not None:
            return defer.fail(self.error)
        idurls = self.source(count) if self.source is not None else (self.batches.pop(0) if self.batches else [])
        contact = Contact(node_id=b"\x00" * 20, host="127.0.0.1", port=1)
        return defer.succeed([Responder(contact=contact, attached=True, idurl=idurl) for idurl in idurls])
