"""supplier_connector: our service relationship with one supplier (see automats/supplier_connector.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.automats.runtime import Automat
from bitdust.customer.collaborators import ContactWatcher, EventSink, ServiceRequest, SupplierRequester
from bitdust.customer.errors import SupplierRefused
from bitdust.customer.supplier_connector_machine import SupplierConnectorMachine

#: The connector's view of the request it sends: built anew for each attempt, so a family that
#: changed between attempts (a new revision, another size) goes out as it is now.
RequestFactory = Callable[[], ServiceRequest]


class SupplierConnector(SupplierConnectorMachine):
    """One supplier at one position. ``make_request`` gives the RequestService to send; ``watcher``
    tells the supplier's presence, which the connector follows from construction to ``close``.

    ``request_timeout`` bounds one attempt; a failed attempt waits ``retry_delay`` doubled per
    attempt (capped at ``max_retry_delay``) and after ``max_attempts`` the connector is
    ``NO_SERVICE`` until the contact comes back or ``connect`` is sent again.
    """

    def __init__(
        self,
        supplier_id: str,
        *,
        customer_id: str,
        make_request: RequestFactory,
        requester: SupplierRequester,
        watcher: ContactWatcher,
        events: EventSink,
        request_timeout: float = 30.0,
        retry_delay: float = 5.0,
        max_retry_delay: float = 300.0,
        max_attempts: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance_id=f"supplier_connector[{supplier_id}]", **kwargs)
        self.supplier_id = supplier_id
        self.customer_id = customer_id
        self.make_request = make_request
        self.requester = requester
        self.events = events
        self.request_timeout = request_timeout
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.max_attempts = max_attempts
        self.attempts = 0
        self.allocated_bytes: int | None = None
        self.position: int | None = None
        #: why the supplier is not serving us (its refusal, the last failure), None while it is
        self.problem: str | None = None
        self._in_flight: defer.Deferred[int] | None = None
        #: False once ``detach`` asked to close without telling the supplier (we only stop running)
        self._cancel_on_close = True
        self._request_serial = 0
        self.add_state_changed_callback(self._changed_state)
        self._unwatch = watcher.watch(supplier_id, self._presence_changed)

    # -- conditions ---------------------------------------------------------------------------

    def is_retry_left(self, *, reason: str | None = None) -> bool:
        return self.attempts < self.max_attempts

    # -- actions ------------------------------------------------------------------------------

    def do_reset_attempts(self) -> None:
        self.attempts = 0

    def do_request_service(self) -> None:
        """Send one RequestService; its answer counts only while it is still the current attempt."""
        self.attempts += 1
        self._request_serial += 1
        serial = self._request_serial
        request = self.make_request()
        self.position = request.position
        self.start_deadline("request-timeout", self.request_timeout)
        d = self._in_flight = defer.maybeDeferred(self.requester.request_service, self.supplier_id, request)

        def current() -> bool:
            return serial == self._request_serial and not self.destroyed and self.state == "REQUEST"

        def answered(allocated: int) -> None:
            if current():
                self._in_flight = None
                self.accepted(allocated_bytes=allocated)

        def failed(failure: Failure) -> None:
            if not current():
                return
            self._in_flight = None
            if failure.check(SupplierRefused):
                self.refused(reason=failure.value.reason)
            else:
                self.request_failed(reason=failure.getErrorMessage() or failure.type.__name__)

        d.addCallbacks(answered, failed)
        d.addErrback(self._log_failure, "handling the answer of")

    def do_report_connected(self, *, allocated_bytes: int) -> None:
        self.allocated_bytes = allocated_bytes
        self.problem = None

    def do_report_refused(self, *, reason: str) -> None:
        self.problem = f"refused: {reason}"

    def do_report_rejected(self, *, reason: str) -> None:
        self._abandon()
        self.problem = f"rejected: {reason}"

    def do_schedule_retry(self, *, reason: str | None = None) -> None:
        self._abandon()
        self.problem = reason or f"no answer within {self.request_timeout:g} s"
        delay = min(self.max_retry_delay, self.retry_delay * 2 ** max(0, self.attempts - 1))
        self.start_deadline("retry", delay)

    def do_report_no_service(self, *, reason: str | None = None) -> None:
        self._abandon()
        last = reason or f"no answer within {self.request_timeout:g} s"
        self.problem = f"no service after {self.attempts} attempts: {last}"

    def do_abandon_request(self) -> None:
        self._abandon()
        self.problem = "the supplier went offline"

    def do_report_disconnected(self) -> None:
        self.problem = "the supplier went offline"

    def do_cancel_service(self) -> None:
        if not self._cancel_on_close:
            return
        d = defer.maybeDeferred(self.requester.cancel_service, self.supplier_id, self.customer_id)
        d.addErrback(self._log_failure, "cancelling service_supplier at")

    def do_close(self) -> None:
        self._unwatch()
        self.destroy()

    # -- what fire_hire asks -------------------------------------------------------------------

    def detach(self) -> None:
        """Close without sending CancelService: the node stops, the supplier stays hired.

        A customer that stops (or restarts) keeps its family: the suppliers keep its allocation
        and its data, and the restored family asks them again at the next start. Only a supplier
        fired or dropped from the family is told to free what it holds (``close``).
        """
        self._cancel_on_close = False
        self.close()

    # -- helpers ------------------------------------------------------------------------------

    def _abandon(self) -> None:
        """Forget the attempt in flight: a late answer to it changes nothing."""
        self._request_serial += 1
        pending, self._in_flight = self._in_flight, None
        if pending is not None:
            pending.addErrback(lambda _failure: None)
            pending.cancel()

    def _presence_changed(self, _idurl: str, online: bool) -> None:
        if self.destroyed:
            return
        if online:
            self.contact_online()
        else:
            self.contact_offline()

    def _changed_state(self, _automat: Automat, old: str, new: str, _event: str) -> None:
        data = {
            "supplier_idurl": self.supplier_id,
            "customer_idurl": self.customer_id,
            "position": self.position,
            "state": new,
        }
        if new == "CONNECTED":
            self.events.send("supplier-connected", data)
        elif old == "CONNECTED":
            self.events.send("supplier-disconnected", {**data, "reason": self.problem})

    def _log_failure(self, failure: Failure, doing: str) -> None:
        self.log.failure("{doing} {supplier} failed", failure, doing=doing, supplier=self.supplier_id)

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "supplier_idurl": self.supplier_id,
            "position": self.position,
            "allocated_bytes": self.allocated_bytes,
            "problem": self.problem,
        }
