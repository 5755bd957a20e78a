# generated from automats/shutdowner.md — do not edit; run `make automats`
"""State machine ``shutdowner``: constants, event methods and dispatch generated from automats/shutdowner.md.

The hand-written ``bitdust.main.lifecycle.shutdowner.Shutdowner`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload


class ShutdownerMachine(Automat):
    NAME = "shutdowner"
    SOURCE = "automats/shutdowner.md"
    STATES = (
        "RUNNING",
        "SERVICES_STOP",
        "INTERFACES_STOP",
        "FINISHED",
    )
    EVENTS = frozenset(
        {
            "interfaces-stopped",
            "services-stopped",
            "stop",
            "timer-30sec",
        }
    )
    INITIAL_STATE = "RUNNING"
    FINAL_STATES = frozenset(
        {
            "FINISHED",
        }
    )
    FAILURE_STATE = "FINISHED"
    TIMERS = {
        "timer-30sec": (30.0, frozenset({"INTERFACES_STOP", "SERVICES_STOP"})),
    }
    ACTIONS = (
        "do_remember_mode",
        "do_stop_services",
        "do_stop_interfaces",
        "do_report_timeout",
        "do_release_home",
        "do_stop_reactor",
    )
    CONDITIONS = ()
    PAYLOADS = {
        "stop": ("restart",),
    }
    EDGE_STATES = {
        "stop": frozenset({"RUNNING"}),
        "services-stopped": frozenset({"SERVICES_STOP"}),
        "timer-30sec": frozenset({"INTERFACES_STOP", "SERVICES_STOP"}),
        "interfaces-stopped": frozenset({"INTERFACES_STOP"}),
    }
    IGNORED = {}
    DEADLINES = frozenset()

    def stop(self, *, restart: bool) -> None:
        """Send ``stop`` with its payload."""
        self.automat("stop", restart=restart)

    def services_stopped(self) -> None:
        """Send ``services-stopped``."""
        self.automat("services-stopped")

    def interfaces_stopped(self) -> None:
        """Send ``interfaces-stopped``."""
        self.automat("interfaces-stopped")

    if TYPE_CHECKING:
        # Implemented by bitdust.main.lifecycle.shutdowner.Shutdowner; see automats/shutdowner.md.
        def do_remember_mode(self, *, restart: bool) -> None: ...
        def do_stop_services(self, *, restart: bool) -> None: ...
        def do_stop_interfaces(self) -> None: ...
        def do_report_timeout(self) -> None: ...
        def do_release_home(self) -> None: ...
        def do_stop_reactor(self) -> None: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "RUNNING":
            if event == "stop":
                self.state = "SERVICES_STOP"
                self.do_remember_mode(restart=cast("bool", payload["restart"]))
                self.do_stop_services(restart=cast("bool", payload["restart"]))
        elif self.state == "SERVICES_STOP":
            if event == "services-stopped":
                self.state = "INTERFACES_STOP"
                self.do_stop_interfaces()
            elif event == "timer-30sec":
                self.state = "INTERFACES_STOP"
                self.do_report_timeout()
                self.do_stop_interfaces()
        elif self.state == "INTERFACES_STOP":
            if event == "interfaces-stopped":
                self.state = "FINISHED"
                self.do_release_home()
                self.do_stop_reactor()
            elif event == "timer-30sec":
                self.state = "FINISHED"
                self.do_report_timeout()
                self.do_release_home()
                self.do_stop_reactor()
