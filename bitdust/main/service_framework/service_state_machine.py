# generated from automats/service.md — do not edit; run `make automats`
"""State machine ``service``: constants, event methods and dispatch generated from automats/service.md.

The hand-written ``bitdust.main.service_framework.service_state.ServiceState`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload

if TYPE_CHECKING:
    from twisted.python.failure import Failure


class ServiceStateMachine(Automat):
    NAME = "service"
    SOURCE = "automats/service.md"
    STATES = (
        "OFF",
        "NOT_INSTALLED",
        "DEPENDS_OFF",
        "STARTING",
        "FAILED",
        "ON",
        "STOPPING",
    )
    EVENTS = frozenset(
        {
            "recheck",
            "start",
            "start-failed",
            "started",
            "stop",
            "stop-failed",
            "stopped",
        }
    )
    INITIAL_STATE = "OFF"
    FINAL_STATES = frozenset()
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_report_not_installed",
        "do_report_depends_off",
        "do_start",
        "do_report_stopped",
        "do_report_started",
        "do_report_start_failed",
        "do_stop",
        "do_report_stop_failed",
        "do_report_installed",
    )
    CONDITIONS = (
        "is_installed",
        "is_depends_on",
    )
    PAYLOADS = {
        "start-failed": ("failure",),
        "stop-failed": ("failure",),
    }
    EDGE_STATES = {
        "start": frozenset({"DEPENDS_OFF", "FAILED", "NOT_INSTALLED", "OFF", "ON"}),
        "stop": frozenset({"DEPENDS_OFF", "FAILED", "NOT_INSTALLED", "OFF", "ON"}),
        "started": frozenset({"STARTING"}),
        "start-failed": frozenset({"STARTING"}),
        "stopped": frozenset({"STOPPING"}),
        "stop-failed": frozenset({"STOPPING"}),
        "recheck": frozenset({"DEPENDS_OFF", "FAILED", "NOT_INSTALLED", "OFF"}),
    }
    IGNORED = {
        "recheck": frozenset({"ON", "STARTING", "STOPPING"}),
    }
    DEADLINES = frozenset()

    def start(self) -> None:
        """Send ``start``."""
        self.automat("start")

    def stop(self) -> None:
        """Send ``stop``."""
        self.automat("stop")

    def started(self) -> None:
        """Send ``started``."""
        self.automat("started")

    def start_failed(self, *, failure: Failure) -> None:
        """Send ``start-failed`` with its payload."""
        self.automat("start-failed", failure=failure)

    def stopped(self) -> None:
        """Send ``stopped``."""
        self.automat("stopped")

    def stop_failed(self, *, failure: Failure) -> None:
        """Send ``stop-failed`` with its payload."""
        self.automat("stop-failed", failure=failure)

    def recheck(self) -> None:
        """Send ``recheck``."""
        self.automat("recheck")

    if TYPE_CHECKING:
        # Implemented by bitdust.main.service_framework.service_state.ServiceState; see automats/service.md.
        def do_report_not_installed(self) -> None: ...
        def do_report_depends_off(self) -> None: ...
        def do_start(self) -> None: ...
        def do_report_stopped(self) -> None: ...
        def do_report_started(self) -> None: ...
        def do_report_start_failed(self, *, failure: Failure) -> None: ...
        def do_stop(self) -> None: ...
        def do_report_stop_failed(self, *, failure: Failure) -> None: ...
        def do_report_installed(self) -> None: ...
        def is_installed(self) -> bool: ...
        def is_depends_on(self) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "OFF":
            if event == "start":
                if not self.is_installed():
                    # OFF --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed()
                elif not self.is_depends_on():
                    # OFF --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off()
                else:
                    # OFF --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start()
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped()
            elif event == "recheck":
                if not self.is_installed():
                    # OFF --> NOT_INSTALLED : recheck [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed()
        elif self.state == "NOT_INSTALLED":
            if event == "start":
                if not self.is_installed():
                    # NOT_INSTALLED --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed()
                elif not self.is_depends_on():
                    # NOT_INSTALLED --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off()
                else:
                    # NOT_INSTALLED --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start()
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped()
            elif event == "recheck":
                if self.is_installed():
                    # NOT_INSTALLED --> OFF : recheck [is_installed] / do_report_installed
                    self.state = "OFF"
                    self.do_report_installed()
        elif self.state == "DEPENDS_OFF":
            if event == "start":
                if not self.is_installed():
                    # DEPENDS_OFF --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed()
                elif not self.is_depends_on():
                    # DEPENDS_OFF --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off()
                else:
                    # DEPENDS_OFF --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start()
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped()
            elif event == "recheck":
                if not self.is_installed():
                    # DEPENDS_OFF --> NOT_INSTALLED : recheck [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed()
        elif self.state == "FAILED":
            if event == "start":
                if not self.is_installed():
                    # FAILED --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed()
                elif not self.is_depends_on():
                    # FAILED --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off()
                else:
                    # FAILED --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start()
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped()
            elif event == "recheck":
                if not self.is_installed():
                    # FAILED --> NOT_INSTALLED : recheck [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed()
        elif self.state == "STARTING":
            if event == "started":
                self.state = "ON"
                self.do_report_started()
            elif event == "start-failed":
                self.state = "FAILED"
                self.do_report_start_failed(failure=cast("Failure", payload["failure"]))
        elif self.state == "ON":
            if event == "stop":
                self.state = "STOPPING"
                self.do_stop()
            elif event == "start":
                self.state = "ON"
                self.do_report_started()
        elif self.state == "STOPPING":
            if event == "stopped":
                self.state = "OFF"
                self.do_report_stopped()
            elif event == "stop-failed":
                self.state = "OFF"
                self.do_report_stop_failed(failure=cast("Failure", payload["failure"]))
