# generated from automats/supplier_connector.md — do not edit; run `make automats`
"""State machine ``supplier_connector``: constants, event methods and dispatch generated from automats/supplier_connector.md.

The hand-written ``bitdust.customer.supplier_connector.SupplierConnector`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload


class SupplierConnectorMachine(Automat):
    NAME = "supplier_connector"
    SOURCE = "automats/supplier_connector.md"
    STATES = (
        "DISCONNECTED",
        "REQUEST",
        "REFUSED",
        "CLOSED",
        "CONNECTED",
        "NO_SERVICE",
    )
    EVENTS = frozenset(
        {
            "accepted",
            "close",
            "connect",
            "contact-offline",
            "contact-online",
            "refused",
            "rejected",
            "request-failed",
            "request-timeout",
            "retry",
        }
    )
    INITIAL_STATE = "DISCONNECTED"
    FINAL_STATES = frozenset(
        {
            "CLOSED",
        }
    )
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_reset_attempts",
        "do_request_service",
        "do_report_rejected",
        "do_close",
        "do_report_connected",
        "do_report_refused",
        "do_schedule_retry",
        "do_report_no_service",
        "do_abandon_request",
        "do_cancel_service",
        "do_report_disconnected",
    )
    CONDITIONS = (
        "is_retry_left",
    )
    PAYLOADS = {
        "accepted": ("allocated_bytes",),
        "refused": ("reason",),
        "request-failed": ("reason",),
        "rejected": ("reason",),
    }
    EDGE_STATES = {
        "connect": frozenset({"DISCONNECTED", "NO_SERVICE", "REFUSED"}),
        "contact-online": frozenset({"DISCONNECTED", "NO_SERVICE"}),
        "retry": frozenset({"DISCONNECTED"}),
        "rejected": frozenset({"CONNECTED", "DISCONNECTED", "NO_SERVICE", "REQUEST"}),
        "close": frozenset({"CONNECTED", "DISCONNECTED", "NO_SERVICE", "REFUSED", "REQUEST"}),
        "accepted": frozenset({"REQUEST"}),
        "refused": frozenset({"REQUEST"}),
        "request-failed": frozenset({"REQUEST"}),
        "request-timeout": frozenset({"REQUEST"}),
        "contact-offline": frozenset({"CONNECTED", "REQUEST"}),
    }
    IGNORED = {
        "connect": frozenset({"CONNECTED", "REQUEST"}),
        "contact-online": frozenset({"CONNECTED", "REFUSED", "REQUEST"}),
        "rejected": frozenset({"REFUSED"}),
        "contact-offline": frozenset({"DISCONNECTED", "NO_SERVICE", "REFUSED"}),
    }
    DEADLINES = frozenset(
        {
            "request-timeout",
            "retry",
        }
    )

    def connect(self) -> None:
        """Send ``connect``."""
        self.automat("connect")

    def contact_online(self) -> None:
        """Send ``contact-online``."""
        self.automat("contact-online")

    def rejected(self, *, reason: str) -> None:
        """Send ``rejected`` with its payload."""
        self.automat("rejected", reason=reason)

    def close(self) -> None:
        """Send ``close``."""
        self.automat("close")

    def accepted(self, *, allocated_bytes: int) -> None:
        """Send ``accepted`` with its payload."""
        self.automat("accepted", allocated_bytes=allocated_bytes)

    def refused(self, *, reason: str) -> None:
        """Send ``refused`` with its payload."""
        self.automat("refused", reason=reason)

    def request_failed(self, *, reason: str) -> None:
        """Send ``request-failed`` with its payload."""
        self.automat("request-failed", reason=reason)

    def contact_offline(self) -> None:
        """Send ``contact-offline``."""
        self.automat("contact-offline")

    if TYPE_CHECKING:
        # Implemented by bitdust.customer.supplier_connector.SupplierConnector; see automats/supplier_connector.md.
        def do_reset_attempts(self) -> None: ...
        def do_request_service(self) -> None: ...
        def do_report_rejected(self, *, reason: str) -> None: ...
        def do_close(self) -> None: ...
        def do_report_connected(self, *, allocated_bytes: int) -> None: ...
        def do_report_refused(self, *, reason: str) -> None: ...
        def do_schedule_retry(self, *, reason: str | None = None) -> None: ...
        def do_report_no_service(self, *, reason: str | None = None) -> None: ...
        def do_abandon_request(self) -> None: ...
        def do_cancel_service(self) -> None: ...
        def do_report_disconnected(self) -> None: ...
        def is_retry_left(self, *, reason: str | None = None) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "DISCONNECTED":
            if event == "connect":
                self.state = "REQUEST"
                self.do_reset_attempts()
                self.do_request_service()
            elif event == "contact-online":
                self.state = "REQUEST"
                self.do_reset_attempts()
                self.do_request_service()
            elif event == "retry":
                self.state = "REQUEST"
                self.do_request_service()
            elif event == "rejected":
                self.state = "REFUSED"
                self.do_report_rejected(reason=cast("str", payload["reason"]))
            elif event == "close":
                self.state = "CLOSED"
                self.do_close()
        elif self.state == "REQUEST":
            if event == "accepted":
                self.state = "CONNECTED"
                self.do_report_connected(allocated_bytes=cast("int", payload["allocated_bytes"]))
            elif event == "refused":
                self.state = "REFUSED"
                self.do_report_refused(reason=cast("str", payload["reason"]))
            elif event == "request-failed":
                if self.is_retry_left(reason=cast("str", payload["reason"])):
                    # REQUEST --> DISCONNECTED : request-failed [is_retry_left] / do_schedule_retry
                    self.state = "DISCONNECTED"
                    self.do_schedule_retry(reason=cast("str", payload["reason"]))
                else:
                    # REQUEST --> NO_SERVICE : request-failed [!is_retry_left] / do_report_no_service
                    self.state = "NO_SERVICE"
                    self.do_report_no_service(reason=cast("str", payload["reason"]))
            elif event == "request-timeout":
                if self.is_retry_left():
                    # REQUEST --> DISCONNECTED : request-timeout [is_retry_left] / do_schedule_retry
                    self.state = "DISCONNECTED"
                    self.do_schedule_retry()
                else:
                    # REQUEST --> NO_SERVICE : request-timeout [!is_retry_left] / do_report_no_service
                    self.state = "NO_SERVICE"
                    self.do_report_no_service()
            elif event == "contact-offline":
                self.state = "DISCONNECTED"
                self.do_abandon_request()
            elif event == "rejected":
                self.state = "REFUSED"
                self.do_report_rejected(reason=cast("str", payload["reason"]))
            elif event == "close":
                self.state = "CLOSED"
                self.do_abandon_request()
                self.do_cancel_service()
                self.do_close()
        elif self.state == "CONNECTED":
            if event == "contact-offline":
                self.state = "DISCONNECTED"
                self.do_report_disconnected()
            elif event == "rejected":
                self.state = "REFUSED"
                self.do_report_rejected(reason=cast("str", payload["reason"]))
            elif event == "close":
                self.state = "CLOSED"
                self.do_cancel_service()
                self.do_close()
        elif self.state == "NO_SERVICE":
            if event == "connect":
                self.state = "REQUEST"
                self.do_reset_attempts()
                self.do_request_service()
            elif event == "contact-online":
                self.state = "REQUEST"
                self.do_reset_attempts()
                self.do_request_service()
            elif event == "rejected":
                self.state = "REFUSED"
                self.do_report_rejected(reason=cast("str", payload["reason"]))
            elif event == "close":
                self.state = "CLOSED"
                self.do_close()
        elif self.state == "REFUSED":
            if event == "connect":
                self.state = "REQUEST"
                self.do_reset_attempts()
                self.do_request_service()
            elif event == "close":
                self.state = "CLOSED"
                self.do_close()
