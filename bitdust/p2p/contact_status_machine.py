# generated from automats/contact_status.md — do not edit; run `make automats`
"""State machine ``contact_status``: constants, event methods and dispatch generated from automats/contact_status.md.

The hand-written ``bitdust.p2p.contact_status.ContactStatus`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload


class ContactStatusMachine(Automat):
    NAME = "contact_status"
    SOURCE = "automats/contact_status.md"
    STATES = (
        "OFFLINE",
        "CONNECTED",
        "PING",
    )
    EVENTS = frozenset(
        {
            "check",
            "connection-lost",
            "inbox-packet",
            "outbox-failed",
            "ping-failed",
            "ping-ok",
            "went-offline",
        }
    )
    INITIAL_STATE = "OFFLINE"
    FINAL_STATES = frozenset()
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_report_connected",
        "do_ping",
        "do_report_offline",
    )
    CONDITIONS = ()
    PAYLOADS = {
        "ping-failed": ("reason",),
        "outbox-failed": ("reason",),
        "went-offline": ("reason",),
    }
    EDGE_STATES = {
        "inbox-packet": frozenset({"OFFLINE", "PING"}),
        "check": frozenset({"CONNECTED", "OFFLINE"}),
        "ping-ok": frozenset({"PING"}),
        "ping-failed": frozenset({"PING"}),
        "outbox-failed": frozenset({"CONNECTED", "PING"}),
        "went-offline": frozenset({"CONNECTED", "PING"}),
        "connection-lost": frozenset({"CONNECTED"}),
    }
    IGNORED = {
        "inbox-packet": frozenset({"CONNECTED"}),
        "check": frozenset({"PING"}),
        "ping-ok": frozenset({"CONNECTED", "OFFLINE"}),
        "ping-failed": frozenset({"CONNECTED", "OFFLINE"}),
        "outbox-failed": frozenset({"OFFLINE"}),
        "went-offline": frozenset({"OFFLINE"}),
        "connection-lost": frozenset({"OFFLINE", "PING"}),
    }
    DEADLINES = frozenset()

    def inbox_packet(self) -> None:
        """Send ``inbox-packet``."""
        self.automat("inbox-packet")

    def check(self) -> None:
        """Send ``check``."""
        self.automat("check")

    def ping_ok(self) -> None:
        """Send ``ping-ok``."""
        self.automat("ping-ok")

    def ping_failed(self, *, reason: str) -> None:
        """Send ``ping-failed`` with its payload."""
        self.automat("ping-failed", reason=reason)

    def outbox_failed(self, *, reason: str) -> None:
        """Send ``outbox-failed`` with its payload."""
        self.automat("outbox-failed", reason=reason)

    def went_offline(self, *, reason: str) -> None:
        """Send ``went-offline`` with its payload."""
        self.automat("went-offline", reason=reason)

    def connection_lost(self) -> None:
        """Send ``connection-lost``."""
        self.automat("connection-lost")

    if TYPE_CHECKING:
        # Implemented by bitdust.p2p.contact_status.ContactStatus; see automats/contact_status.md.
        def do_report_connected(self) -> None: ...
        def do_ping(self) -> None: ...
        def do_report_offline(self, *, reason: str) -> None: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "OFFLINE":
            if event == "inbox-packet":
                self.state = "CONNECTED"
                self.do_report_connected()
            elif event == "check":
                self.state = "PING"
                self.do_ping()
        elif self.state == "PING":
            if event == "inbox-packet":
                self.state = "CONNECTED"
                self.do_report_connected()
            elif event == "ping-ok":
                self.state = "CONNECTED"
                self.do_report_connected()
            elif event == "ping-failed":
                self.state = "OFFLINE"
                self.do_report_offline(reason=cast("str", payload["reason"]))
            elif event == "outbox-failed":
                self.state = "OFFLINE"
                self.do_report_offline(reason=cast("str", payload["reason"]))
            elif event == "went-offline":
                self.state = "OFFLINE"
                self.do_report_offline(reason=cast("str", payload["reason"]))
        elif self.state == "CONNECTED":
            if event == "check":
                self.state = "PING"
                self.do_ping()
            elif event == "connection-lost":
                self.state = "PING"
                self.do_ping()
            elif event == "outbox-failed":
                self.state = "OFFLINE"
                self.do_report_offline(reason=cast("str", payload["reason"]))
            elif event == "went-offline":
                self.state = "OFFLINE"
                self.do_report_offline(reason=cast("str", payload["reason"]))
