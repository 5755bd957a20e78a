"""supplier_finder: one node to offer a family position to (see automats/supplier_finder.md)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.customer.errors import SupplierNotFound
from bitdust.customer.options import SUPPLIERS_DHT_LAYER
from bitdust.customer.refused_memory import RefusedMemory
from bitdust.customer.supplier_finder_machine import SupplierFinderMachine
from bitdust.dht.lookup import Responder
from bitdust.errors import Conflict


class LiveNodes(Protocol):
    """The DHT node's public lookup of random live nodes of a layer (``DhtNode.random_nodes``)."""

    def random_nodes(self, layer: int, count: int, attempts: int = 3) -> defer.Deferred[list[Responder]]: ...


if TYPE_CHECKING:
    from bitdust.dht.node import DhtNode

    def _dht_node_gives_live_nodes(node: DhtNode) -> LiveNodes:
        """mypy's proof that the real DHT node is what the finder is given."""
        return node


class SupplierFinder(SupplierFinderMachine):
    """``search(exclude)`` fires with the IDURL of a node to hire, or fails with SupplierNotFound.

    ``candidates`` answers the configured candidates (read at each search, so a config change
    counts at once); ``dht`` gives random live nodes of layer 3; ``refused`` is the memory that
    ``fire_hire`` fills. ``max_tries`` bounds a search, ``batch`` is how many nodes one DHT
    lookup asks for.
    """

    def __init__(
        self,
        *,
        own_id: str,
        candidates: Callable[[], Sequence[str]],
        dht: LiveNodes,
        refused: RefusedMemory,
        max_tries: int = 30,
        batch: int = 8,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance_id="supplier_finder", **kwargs)
        self.own_id = own_id
        self.candidates = candidates
        self.dht = dht
        self.refused = refused
        self.max_tries = max_tries
        self.batch = batch
        self.tries = 0
        #: why the last search failed, None after a success
        self.problem: str | None = None
        self._exclude: frozenset[str] = frozenset()
        self._waiting: deque[str] = deque()
        self._seen: set[str] = set()
        self._result: defer.Deferred[str] | None = None

    def search(self, exclude: Collection[str] = ()) -> defer.Deferred[str]:
        """Start a search skipping ``exclude`` (the family and whoever is being hired)."""
        if self.state != "READY":
            raise Conflict(f"supplier_finder is {self.state}: one search at a time")
        self._exclude = frozenset(exclude)
        d = self._result = defer.Deferred()
        self.automat("find")
        return d

    # -- conditions ---------------------------------------------------------------------------

    def is_acceptable(self, *, idurl: str) -> bool:
        return self._why_not(idurl) is None

    def is_try_left(
        self, *, idurl: str | None = None, idurls: list[str] | None = None, reason: str | None = None
    ) -> bool:
        return self.tries < self.max_tries

    # -- actions ------------------------------------------------------------------------------

    def do_start_search(self) -> None:
        self.tries = 0
        self._seen = set()
        self._waiting = deque(self.candidates())

    def do_next_candidate(
        self, *, idurl: str | None = None, idurls: list[str] | None = None, reason: str | None = None
    ) -> None:
        """Examine the next queued candidate, or ask the DHT for more when none is queued."""
        if idurl is not None:
            self._seen.add(idurl)
        if self._waiting:
            self.tries += 1
            self.candidate(idurl=self._waiting.popleft())
            return
        d = defer.maybeDeferred(self.dht.random_nodes, SUPPLIERS_DHT_LAYER, self.batch)

        def found(responders: list[Responder]) -> None:
            if self.state == "SEARCH" and not self.destroyed:
                idurls = [r.idurl for r in responders if r.attached and r.idurl]
                if not self._fresh(idurls):
                    self.tries += 1
                self.nodes_found(idurls=idurls)

        def failed(failure: Failure) -> None:
            if self.state == "SEARCH" and not self.destroyed:
                self.tries += 1
                self.lookup_failed(reason=failure.getErrorMessage() or failure.type.__name__)

        d.addCallbacks(found, failed)
        d.addErrback(self._log_failure)

    def do_take_nodes(self, *, idurls: list[str]) -> None:
        self._waiting.extend(self._fresh(idurls))

    def do_report_found(self, *, idurl: str) -> None:
        self.problem = None
        self._settle(lambda d: d.callback(idurl))

    def do_report_not_found(
        self, *, idurl: str | None = None, idurls: list[str] | None = None, reason: str | None = None
    ) -> None:
        last = reason or (f"{idurl} {self._why_not(idurl)}" if idurl is not None else "the DHT knows no new node")
        self.problem = f"no supplier found after {self.tries} tries (last: {last})"
        problem = self.problem
        self._settle(lambda d: d.errback(SupplierNotFound(problem)))

    def do_report_stopped(self) -> None:
        self._settle(lambda d: d.errback(SupplierNotFound("the search was stopped")))

    def do_close(self) -> None:
        self.destroy()

    # -- helpers ------------------------------------------------------------------------------

    def _why_not(self, idurl: str) -> str | None:
        """Why ``idurl`` may not be offered a position now, or None when it may."""
        if not idurl:
            return "is empty"
        if idurl == self.own_id:
            return "is ourselves"
        if idurl in self._exclude:
            return "is already in the family"
        if idurl in self._seen:
            return "was examined already"
        refused = self.refused.reason(idurl)
        if refused is not None:
            return f"refused us recently ({refused})"
        return None

    def _fresh(self, idurls: list[str]) -> list[str]:
        """The nodes of ``idurls`` this search has neither examined nor queued yet."""
        return [idurl for idurl in dict.fromkeys(idurls) if idurl not in self._seen and idurl not in self._waiting]

    def _settle(self, fire: Callable[[defer.Deferred[str]], object]) -> None:
        d, self._result = self._result, None
        if d is not None:
            fire(d)

    def _log_failure(self, failure: Failure) -> None:
        self.log.failure("supplier_finder: handling a DHT lookup failed", failure)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "tries": self.tries, "problem": self.problem}
