# generated from automats/fire_hire.md — do not edit; run `make automats`
"""State machine ``fire_hire``: constants, event methods and dispatch generated from automats/fire_hire.md.

The hand-written ``bitdust.customer.fire_hire.FireHire`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload


class FireHireMachine(Automat):
    NAME = "fire_hire"
    SOURCE = "automats/fire_hire.md"
    STATES = (
        "AT_STARTUP",
        "DECISION",
        "CLOSED",
        "READY",
        "FIRE",
        "HIRE",
        "CONNECT",
    )
    EVENTS = frozenset(
        {
            "decided",
            "fired",
            "found",
            "hire-failed",
            "hired",
            "not-found",
            "recheck",
            "restart",
            "start",
            "stop",
        }
    )
    INITIAL_STATE = "AT_STARTUP"
    FINAL_STATES = frozenset(
        {
            "CLOSED",
        }
    )
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_restore_family",
        "do_decide",
        "do_close_all",
        "do_fire",
        "do_find_supplier",
        "do_report_all_hired",
        "do_report_not_hired",
        "do_connect_new",
        "do_accept_new",
        "do_forget_new",
    )
    CONDITIONS = (
        "is_fire_needed",
        "is_hire_needed",
        "is_all_connected",
    )
    PAYLOADS = {
        "found": ("idurl",),
        "not-found": ("reason",),
        "hire-failed": ("reason",),
    }
    EDGE_STATES = {
        "start": frozenset({"AT_STARTUP"}),
        "stop": frozenset({"AT_STARTUP", "CONNECT", "HIRE", "READY"}),
        "restart": frozenset({"READY"}),
        "recheck": frozenset({"READY"}),
        "decided": frozenset({"DECISION"}),
        "fired": frozenset({"FIRE"}),
        "found": frozenset({"HIRE"}),
        "not-found": frozenset({"HIRE"}),
        "hired": frozenset({"CONNECT"}),
        "hire-failed": frozenset({"CONNECT"}),
    }
    IGNORED = {
        "restart": frozenset({"CONNECT", "DECISION", "FIRE", "HIRE"}),
    }
    DEADLINES = frozenset(
        {
            "recheck",
        }
    )

    def start(self) -> None:
        """Send ``start``."""
        self.automat("start")

    def stop(self) -> None:
        """Send ``stop``."""
        self.automat("stop")

    def restart(self) -> None:
        """Send ``restart``."""
        self.automat("restart")

    def decided(self) -> None:
        """Send ``decided``."""
        self.automat("decided")

    def fired(self) -> None:
        """Send ``fired``."""
        self.automat("fired")

    def found(self, *, idurl: str) -> None:
        """Send ``found`` with its payload."""
        self.automat("found", idurl=idurl)

    def not_found(self, *, reason: str) -> None:
        """Send ``not-found`` with its payload."""
        self.automat("not-found", reason=reason)

    def hired(self) -> None:
        """Send ``hired``."""
        self.automat("hired")

    def hire_failed(self, *, reason: str) -> None:
        """Send ``hire-failed`` with its payload."""
        self.automat("hire-failed", reason=reason)

    if TYPE_CHECKING:
        # Implemented by bitdust.customer.fire_hire.FireHire; see automats/fire_hire.md.
        def do_restore_family(self) -> None: ...
        def do_decide(self, *, reason: str | None = None) -> None: ...
        def do_close_all(self) -> None: ...
        def do_fire(self) -> None: ...
        def do_find_supplier(self) -> None: ...
        def do_report_all_hired(self) -> None: ...
        def do_report_not_hired(self, *, reason: str | None = None) -> None: ...
        def do_connect_new(self, *, idurl: str) -> None: ...
        def do_accept_new(self) -> None: ...
        def do_forget_new(self, *, reason: str) -> None: ...
        def is_fire_needed(self) -> bool: ...
        def is_hire_needed(self) -> bool: ...
        def is_all_connected(self) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "start":
                self.state = "DECISION"
                self.do_restore_family()
                self.do_decide()
            elif event == "stop":
                self.state = "CLOSED"
                self.do_close_all()
        elif self.state == "READY":
            if event == "restart":
                self.state = "DECISION"
                self.do_decide()
            elif event == "recheck":
                self.state = "DECISION"
                self.do_decide()
            elif event == "stop":
                self.state = "CLOSED"
                self.do_close_all()
        elif self.state == "DECISION":
            if event == "decided":
                if self.is_fire_needed():
                    # DECISION --> FIRE : decided [is_fire_needed] / do_fire
                    self.state = "FIRE"
                    self.do_fire()
                elif self.is_hire_needed():
                    # DECISION --> HIRE : decided [!is_fire_needed && is_hire_needed] / do_find_supplier
                    self.state = "HIRE"
                    self.do_find_supplier()
                elif self.is_all_connected():
                    # DECISION --> READY : decided [!is_fire_needed && !is_hire_needed && is_all_connected] / do_report_all_hired
                    self.state = "READY"
                    self.do_report_all_hired()
                else:
                    # DECISION --> READY : decided [!is_fire_needed && !is_hire_needed && !is_all_connected] / do_report_not_hired
                    self.state = "READY"
                    self.do_report_not_hired()
        elif self.state == "FIRE":
            if event == "fired":
                self.state = "DECISION"
                self.do_decide()
        elif self.state == "HIRE":
            if event == "found":
                self.state = "CONNECT"
                self.do_connect_new(idurl=cast("str", payload["idurl"]))
            elif event == "not-found":
                self.state = "READY"
                self.do_report_not_hired(reason=cast("str", payload["reason"]))
            elif event == "stop":
                self.state = "CLOSED"
                self.do_close_all()
        elif self.state == "CONNECT":
            if event == "hired":
                self.state = "DECISION"
                self.do_accept_new()
                self.do_decide()
            elif event == "hire-failed":
                self.state = "DECISION"
                self.do_forget_new(reason=cast("str", payload["reason"]))
                self.do_decide(reason=cast("str", payload["reason"]))
            elif event == "stop":
                self.state = "CLOSED"
                self.do_close_all()
