"""fire_hire: keeps exactly N suppliers at stable positions (see automats/fire_hire.md)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.automats.runtime import Automat
from bitdust.customer.collaborators import (
    ContactWatcher,
    EventSink,
    Family,
    FamilyStore,
    ServiceRequest,
    SupplierRequester,
)
from bitdust.customer.family_plan import Seat, choose_fired, offline_deadline
from bitdust.customer.fire_hire_machine import FireHireMachine
from bitdust.customer.options import DEFAULT_SUPPLIERS_NUMBER, SUPPLIERS_NUMBERS, ecc_map_name
from bitdust.customer.refused_memory import RefusedMemory
from bitdust.customer.supplier_connector import SupplierConnector
from bitdust.errors import InvalidInput, Unavailable
from bitdust.raid.eccmap import eccmap


class Finder(Protocol):
    """What fire_hire needs of ``supplier_finder``."""

    destroyed: bool

    def search(self, exclude: set[str], /) -> defer.Deferred[str]: ...

    def stop(self) -> None: ...


@attrs.frozen
class Settings:
    """The config as fire_hire reads it at each decision (callables, so a change counts at once),
    and the connectors' timing."""

    suppliers_number: Callable[[], int]
    needed_bytes: Callable[[], int]
    offline_seconds: Callable[[], float]
    hire_retry_delay: float = 60.0
    request_timeout: float = 30.0
    retry_delay: float = 5.0
    max_retry_delay: float = 300.0
    max_attempts: int = 5


class FireHire(FireHireMachine):
    """The family's keeper. ``family`` is what the store kept (None for a new customer);
    ``family_record`` answers the signed record to send along with each RequestService."""

    def __init__(
        self,
        *,
        own_id: str,
        settings: Settings,
        family: Family | None,
        family_record: Callable[[], dict[str, object] | None],
        finder: Finder,
        refused: RefusedMemory,
        requester: SupplierRequester,
        watcher: ContactWatcher,
        store: FamilyStore,
        events: EventSink,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance_id="fire_hire", **kwargs)
        self.own_id = own_id
        self.settings = settings
        self.family_record = family_record
        self.finder = finder
        self.refused = refused
        self.requester = requester
        self.watcher = watcher
        self.store = store
        self.events = events
        self.positions: list[str | None] = []
        self.connectors: dict[str, SupplierConnector] = {}
        self.revision = 0
        self.all_hired: bool | None = None
        #: the last decision's firings, why the last hire failed
        self.fired_now: list[tuple[int, str]] = []
        self.problem: str | None = None
        self._restored = family
        self._replace: dict[int, str | None] = {}
        self._wanted: dict[int, str] = {}
        self._hiring: SupplierConnector | None = None
        self._hiring_position: int | None = None
        self._dirty = False

    # -- what the API asks ----------------------------------------------------------------------

    def family(self) -> Family:
        """The family as it stands now."""
        return Family(ecc_map_name(len(self.positions)), tuple(p or "" for p in self.positions), self.revision)

    def supplier_change(self, position: int, new_supplier_id: str | None = None) -> None:
        """Replace the supplier at ``position`` (with ``new_supplier_id`` when given) at the next decision.

        Refused with InvalidInput, changing nothing, when the position does not exist, or the new
        supplier is ourselves, already in the family, unknown or offline; Unavailable once stopped.
        """
        if self.destroyed:
            raise Unavailable("fire_hire is stopped: the family is not being kept")
        if not self.positions:
            raise InvalidInput("the family has no positions yet: fire_hire has not started", parameter="position")
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(self.positions):
            raise InvalidInput(f"position must be 0..{len(self.positions) - 1}, not {position!r}", parameter="position")
        if new_supplier_id is not None:
            problem = self._unfit(new_supplier_id)
            if problem is not None:
                raise InvalidInput(f"new_supplier_id {new_supplier_id} {problem}", parameter="new_supplier_id")
        if self.positions[position] is None:
            if new_supplier_id is None:
                raise InvalidInput(f"position {position} has no supplier yet: it is being hired", parameter="position")
            self._wanted[position] = new_supplier_id
        else:
            self._replace[position] = new_supplier_id
        self._note_change()

    def connector_of(self, idurl: str) -> SupplierConnector | None:
        """The connector of ``idurl``: in the family, or being hired now (None for a stranger)."""
        connector = self.connectors.get(idurl)
        if connector is None and self._hiring is not None and self._hiring.supplier_id == idurl:
            connector = self._hiring
        return connector

    def reconsider(self) -> None:
        """Something fire_hire reads changed (a config option): decide now when idle, else right after
        the step in progress. The service calls it on every change of the options it reads."""
        self._note_change()

    # -- conditions -----------------------------------------------------------------------------

    def is_fire_needed(self) -> bool:
        return bool(self.fired_now)

    def is_hire_needed(self) -> bool:
        return None in self.positions

    def is_all_connected(self) -> bool:
        return all(p is not None and self.connectors[p].state == "CONNECTED" for p in self.positions)

    # -- actions --------------------------------------------------------------------------------

    def do_restore_family(self) -> None:
        family, self._restored = self._restored, None
        if family is None:
            return
        self.revision = family.revision
        self.positions = [idurl or None for idurl in family.suppliers]
        for position, idurl in enumerate(self.positions):
            if idurl is not None:
                self.connectors[idurl] = self._connector(idurl, position)
                self.connectors[idurl].connect()

    def do_decide(self, *, reason: str | None = None) -> None:
        """Resize to N, then choose whom to fire; ``decided`` follows."""
        self._dirty = False
        number = self.settings.suppliers_number()
        if number not in SUPPLIERS_NUMBERS:
            self.log.error("fire_hire: {number} is not an ECC map size, the family keeps its size", number=number)
            number = len(self.positions) or DEFAULT_SUPPLIERS_NUMBER
        self._resize(number)
        tolerated = eccmap(ecc_map_name(len(self.positions))).tolerated
        seats = [self._seat(idurl) if idurl is not None else None for idurl in self.positions]
        self.fired_now = choose_fired(
            seats, offline_seconds=self.settings.offline_seconds(), replace=self._replace, tolerated=tolerated
        )
        self.decided()

    def do_fire(self) -> None:
        for position, reason in self.fired_now:
            idurl = self.positions[position]
            assert idurl is not None, "only filled positions are fired"
            self.positions[position] = None
            self.refused.remember(idurl, reason)
            wanted = self._replace.pop(position, None)
            if wanted is not None:
                self._wanted[position] = wanted
            self.connectors.pop(idurl).close()
        self._publish()
        self.fired()

    def do_find_supplier(self) -> None:
        """Fill the lowest empty position: the user's choice for it, else whoever the finder offers."""
        position = self.positions.index(None)
        self._hiring_position = position
        wanted = self._wanted.get(position)
        if wanted is not None and self._unfit(wanted) is None:
            self.found(idurl=wanted)
            return
        self._wanted.pop(position, None)
        exclude = {p for p in self.positions if p is not None}
        d = defer.maybeDeferred(self.finder.search, exclude)

        def found(idurl: str) -> None:
            if self.state == "HIRE" and not self.destroyed:
                self.found(idurl=idurl)

        def failed(failure: Failure) -> None:
            if self.state == "HIRE" and not self.destroyed:
                self.not_found(reason=failure.getErrorMessage())

        d.addCallbacks(found, failed)
        d.addErrback(self._log_failure, "handling the finder's answer")

    def do_connect_new(self, *, idurl: str) -> None:
        assert self._hiring_position is not None, "a hire has a position"
        self._hiring = self._connector(idurl, self._hiring_position)
        self._hiring.connect()

    def do_accept_new(self) -> None:
        connector, position = self._hiring, self._hiring_position
        assert connector is not None and position is not None, "hired only while hiring"
        self._hiring = self._hiring_position = None
        self.positions[position] = connector.supplier_id
        self.connectors[connector.supplier_id] = connector
        self._wanted.pop(position, None)
        self.problem = None
        self._publish()

    def do_forget_new(self, *, reason: str) -> None:
        connector, position = self._hiring, self._hiring_position
        assert connector is not None and position is not None, "a hire fails only while hiring"
        self._hiring = self._hiring_position = None
        self.problem = f"{connector.supplier_id} was not hired: {reason}"
        self.refused.remember(connector.supplier_id, reason)
        if self._wanted.get(position) == connector.supplier_id:
            del self._wanted[position]
        connector.close()

    def do_report_all_hired(self) -> None:
        self._report(True)
        if self._dirty:
            self.start_deadline("recheck", 0)

    def do_report_not_hired(self, *, reason: str | None = None) -> None:
        if reason is not None:
            self.problem = reason
        self._report(False)
        offline_seconds = self.settings.offline_seconds()
        delays = [self.settings.hire_retry_delay] if None in self.positions else []
        for idurl in self.positions:
            if idurl is not None:
                # One overdue already is kept only for want of tolerance: a hire, not time, frees it.
                delay = offline_deadline(self._seat(idurl), offline_seconds=offline_seconds)
                if delay is not None and delay > 0:
                    delays.append(delay)
        if self._dirty:
            delays.append(0.0)
        if delays:
            self.start_deadline("recheck", min(delays))

    def do_close_all(self) -> None:
        if not self.finder.destroyed:
            self.finder.stop()
        # The family stays hired across a stop (the store kept it, the next start asks again); a
        # supplier being hired is not in the family kept, so it is told to free what it may hold.
        hiring, self._hiring = self._hiring, None
        for connector in self.connectors.values():
            connector.detach()
        if hiring is not None:
            hiring.close()
        self.connectors.clear()
        self.destroy()

    # -- helpers --------------------------------------------------------------------------------

    def _resize(self, number: int) -> None:
        if number == len(self.positions):
            return
        while len(self.positions) > number:
            idurl = self.positions.pop()
            if idurl is not None:
                self.connectors.pop(idurl).close()
        self.positions.extend([None] * (number - len(self.positions)))
        for position in [p for p in (*self._replace, *self._wanted) if p >= number]:
            self._replace.pop(position, None)
            self._wanted.pop(position, None)
        self._publish()

    def _seat(self, idurl: str) -> Seat:
        since = self.watcher.offline_since(idurl)
        offline_for = None if since is None else self.clock.seconds() - since
        return Seat(idurl, self.connectors[idurl].state, offline_for)

    def _unfit(self, idurl: str) -> str | None:
        """Why ``idurl`` cannot join the family now, or None."""
        if idurl == self.own_id:
            return "is ourselves"
        if idurl in self.positions or (self._hiring is not None and self._hiring.supplier_id == idurl):
            return "is already in the family"
        if not self.watcher.is_known(idurl):
            return "is unknown"
        if not self.watcher.is_online(idurl):
            return "is offline"
        return None

    def _connector(self, idurl: str, position: int) -> SupplierConnector:
        def request() -> ServiceRequest:
            current = self.positions.index(idurl) if idurl in self.positions else position
            ecc = eccmap(ecc_map_name(len(self.positions)))
            needed = math.ceil(self.settings.needed_bytes() / ecc.required)
            return ServiceRequest(self.own_id, needed, ecc.name, current, self.family_record())

        connector = SupplierConnector(
            idurl,
            customer_id=self.own_id,
            make_request=request,
            requester=self.requester,
            watcher=self.watcher,
            events=self.events,
            request_timeout=self.settings.request_timeout,
            retry_delay=self.settings.retry_delay,
            max_retry_delay=self.settings.max_retry_delay,
            max_attempts=self.settings.max_attempts,
            clock=self.clock,
            registry=self.registry,
            strict=self.strict,
        )
        connector.add_state_changed_callback(self._connector_changed)
        return connector

    def _connector_changed(self, automat: Automat, _old: str, new: str, _event: str) -> None:
        if self.destroyed or new == "CLOSED":
            return
        hiring = self._hiring
        if hiring is not None and automat is hiring:
            if self.state != "CONNECT" or new == "REQUEST":
                return
            if new == "CONNECTED":
                self.hired()
            else:
                self.hire_failed(reason=hiring.problem or new)
        elif any(automat is c for c in self.connectors.values()):
            self._note_change()

    def _note_change(self) -> None:
        """Something the decision reads changed: decide now when idle, else right after."""
        self._dirty = True
        if self.state == "READY":
            self.restart()

    def _publish(self) -> None:
        """A new revision of the family goes to the store; one with no supplier at all is not a
        record the DHT keeps (a family record names at least one), so it only takes a revision."""
        self.revision += 1
        if not any(self.positions):
            return
        d = defer.maybeDeferred(self.store.save, self.family())
        d.addErrback(self._log_failure, "saving the family")

    def _report(self, all_hired: bool) -> None:
        if all_hired == self.all_hired:
            return
        self.all_hired = all_hired
        family = self.family()
        data = {"ecc_map": family.ecc_map, "suppliers": list(family.suppliers), "revision": family.revision}
        self.events.send("my-suppliers-all-hired" if all_hired else "my-suppliers-yet-not-hired", data)

    def _log_failure(self, failure: Failure, doing: str) -> None:
        self.log.failure("fire_hire: {doing} failed", failure, doing=doing)

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "ecc_map": ecc_map_name(len(self.positions)) if self.positions else None,
            "suppliers": [p or "" for p in self.positions],
            "revision": self.revision,
            "problem": self.problem,
        }
