# generated from automats/network_connector.md — do not edit; run `make automats`
"""State machine ``network_connector``: constants, event methods and dispatch generated from automats/network_connector.md.

The hand-written ``bitdust.p2p.network_connector.NetworkConnector`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload


class NetworkConnectorMachine(Automat):
    NAME = "network_connector"
    SOURCE = "automats/network_connector.md"
    STATES = (
        "AT_STARTUP",
        "CONNECTING",
        "CONNECTED",
        "DISCONNECTED",
    )
    EVENTS = frozenset(
        {
            "check-failed",
            "check-ok",
            "init",
            "reconnect",
            "timer-10min",
            "timer-30sec",
        }
    )
    INITIAL_STATE = "AT_STARTUP"
    FINAL_STATES = frozenset()
    FAILURE_STATE = "DISCONNECTED"
    TIMERS = {
        "timer-30sec": (30.0, frozenset({"DISCONNECTED"})),
        "timer-10min": (600.0, frozenset({"CONNECTED"})),
    }
    ACTIONS = (
        "do_check",
        "do_report_connected",
        "do_report_disconnected",
        "do_remember_reconnect",
    )
    CONDITIONS = (
        "is_reconnect_pending",
    )
    PAYLOADS = {
        "check-failed": ("reason",),
    }
    EDGE_STATES = {
        "init": frozenset({"AT_STARTUP"}),
        "check-ok": frozenset({"CONNECTING"}),
        "check-failed": frozenset({"CONNECTING"}),
        "reconnect": frozenset({"CONNECTED", "CONNECTING", "DISCONNECTED"}),
        "timer-10min": frozenset({"CONNECTED"}),
        "timer-30sec": frozenset({"DISCONNECTED"}),
    }
    IGNORED = {}
    DEADLINES = frozenset()

    def init(self) -> None:
        """Send ``init``."""
        self.automat("init")

    def check_ok(self) -> None:
        """Send ``check-ok``."""
        self.automat("check-ok")

    def check_failed(self, *, reason: str) -> None:
        """Send ``check-failed`` with its payload."""
        self.automat("check-failed", reason=reason)

    def reconnect(self) -> None:
        """Send ``reconnect``."""
        self.automat("reconnect")

    if TYPE_CHECKING:
        # Implemented by bitdust.p2p.network_connector.NetworkConnector; see automats/network_connector.md.
        def do_check(self, *, reason: str | None = None) -> None: ...
        def do_report_connected(self) -> None: ...
        def do_report_disconnected(self, *, reason: str) -> None: ...
        def do_remember_reconnect(self) -> None: ...
        def is_reconnect_pending(self, *, reason: str | None = None) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "init":
                self.state = "CONNECTING"
                self.do_check()
        elif self.state == "CONNECTING":
            if event == "check-ok":
                if not self.is_reconnect_pending():
                    # CONNECTING --> CONNECTED : check-ok [!is_reconnect_pending] / do_report_connected
                    self.state = "CONNECTED"
                    self.do_report_connected()
                else:
                    # CONNECTING --> CONNECTING : check-ok [is_reconnect_pending] / do_check
                    self.state = "CONNECTING"
                    self.do_check()
            elif event == "check-failed":
                if not self.is_reconnect_pending(reason=cast("str", payload["reason"])):
                    # CONNECTING --> DISCONNECTED : check-failed [!is_reconnect_pending] / do_report_disconnected
                    self.state = "DISCONNECTED"
                    self.do_report_disconnected(reason=cast("str", payload["reason"]))
                else:
                    # CONNECTING --> CONNECTING : check-failed [is_reconnect_pending] / do_check
                    self.state = "CONNECTING"
                    self.do_check(reason=cast("str", payload["reason"]))
            elif event == "reconnect":
                self.state = "CONNECTING"
                self.do_remember_reconnect()
        elif self.state == "CONNECTED":
            if event == "reconnect":
                self.state = "CONNECTING"
                self.do_check()
            elif event == "timer-10min":
                self.state = "CONNECTING"
                self.do_check()
        elif self.state == "DISCONNECTED":
            if event == "reconnect":
                self.state = "CONNECTING"
                self.do_check()
            elif event == "timer-30sec":
                self.state = "CONNECTING"
                self.do_check()
