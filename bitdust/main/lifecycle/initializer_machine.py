# generated from automats/initializer.md — do not edit; run `make automats`
"""State machine ``initializer``: constants, event methods and dispatch generated from automats/initializer.md.

The hand-written ``bitdust.main.lifecycle.initializer.Initializer`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload

if TYPE_CHECKING:
    from twisted.python.failure import Failure


class InitializerMachine(Automat):
    NAME = "initializer"
    SOURCE = "automats/initializer.md"
    STATES = (
        "AT_STARTUP",
        "LOCAL",
        "STOPPING",
        "SERVICES",
        "FAILED",
        "INTERFACES",
        "READY",
    )
    EVENTS = frozenset(
        {
            "init-local-done",
            "init-local-failed",
            "interfaces-failed",
            "interfaces-started",
            "run",
            "services-started",
            "shutdown",
        }
    )
    INITIAL_STATE = "AT_STARTUP"
    FINAL_STATES = frozenset(
        {
            "FAILED",
            "STOPPING",
        }
    )
    FAILURE_STATE = "FAILED"
    TIMERS = {}
    ACTIONS = (
        "do_init_local",
        "do_shutdown",
        "do_start_services",
        "do_report_failure",
        "do_start_interfaces",
        "do_announce_ready",
    )
    CONDITIONS = ()
    PAYLOADS = {
        "shutdown": ("restart",),
        "init-local-failed": ("failure",),
        "interfaces-failed": ("failure",),
    }
    EDGE_STATES = {
        "run": frozenset({"AT_STARTUP"}),
        "shutdown": frozenset({"AT_STARTUP", "INTERFACES", "LOCAL", "READY", "SERVICES"}),
        "init-local-done": frozenset({"LOCAL"}),
        "init-local-failed": frozenset({"LOCAL"}),
        "services-started": frozenset({"SERVICES"}),
        "interfaces-started": frozenset({"INTERFACES"}),
        "interfaces-failed": frozenset({"INTERFACES"}),
    }
    IGNORED = {
        "init-local-done": frozenset({"STOPPING"}),
        "init-local-failed": frozenset({"STOPPING"}),
        "services-started": frozenset({"STOPPING"}),
        "interfaces-started": frozenset({"STOPPING"}),
        "interfaces-failed": frozenset({"STOPPING"}),
    }
    DEADLINES = frozenset()

    def run(self) -> None:
        """Send ``run``."""
        self.automat("run")

    def shutdown(self, *, restart: bool) -> None:
        """Send ``shutdown`` with its payload."""
        self.automat("shutdown", restart=restart)

    def init_local_done(self) -> None:
        """Send ``init-local-done``."""
        self.automat("init-local-done")

    def init_local_failed(self, *, failure: Failure) -> None:
        """Send ``init-local-failed`` with its payload."""
        self.automat("init-local-failed", failure=failure)

    def services_started(self) -> None:
        """Send ``services-started``."""
        self.automat("services-started")

    def interfaces_started(self) -> None:
        """Send ``interfaces-started``."""
        self.automat("interfaces-started")

    def interfaces_failed(self, *, failure: Failure) -> None:
        """Send ``interfaces-failed`` with its payload."""
        self.automat("interfaces-failed", failure=failure)

    if TYPE_CHECKING:
        # Implemented by bitdust.main.lifecycle.initializer.Initializer; see automats/initializer.md.
        def do_init_local(self) -> None: ...
        def do_shutdown(self, *, restart: bool | None = None, failure: Failure | None = None) -> None: ...
        def do_start_services(self) -> None: ...
        def do_report_failure(self, *, failure: Failure) -> None: ...
        def do_start_interfaces(self) -> None: ...
        def do_announce_ready(self) -> None: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "run":
                self.state = "LOCAL"
                self.do_init_local()
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(restart=cast("bool", payload["restart"]))
        elif self.state == "LOCAL":
            if event == "init-local-done":
                self.state = "SERVICES"
                self.do_start_services()
            elif event == "init-local-failed":
                self.state = "FAILED"
                self.do_report_failure(failure=cast("Failure", payload["failure"]))
                self.do_shutdown(failure=cast("Failure", payload["failure"]))
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(restart=cast("bool", payload["restart"]))
        elif self.state == "SERVICES":
            if event == "services-started":
                self.state = "INTERFACES"
                self.do_start_interfaces()
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(restart=cast("bool", payload["restart"]))
        elif self.state == "INTERFACES":
            if event == "interfaces-started":
                self.state = "READY"
                self.do_announce_ready()
            elif event == "interfaces-failed":
                self.state = "FAILED"
                self.do_report_failure(failure=cast("Failure", payload["failure"]))
                self.do_shutdown(failure=cast("Failure", payload["failure"]))
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(restart=cast("bool", payload["restart"]))
        elif self.state == "READY":
            if event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(restart=cast("bool", payload["restart"]))
