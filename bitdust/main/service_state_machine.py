# generated from automats/service.md — do not edit; run `make automats`
"""State machine ``service``: constants and dispatch generated from automats/service.md.

The hand-written ``bitdust.main.service_state.ServiceState`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


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

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "OFF":
            if event == "start":
                if not self.is_installed(*args, **kwargs):
                    # OFF --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed(*args, **kwargs)
                elif not self.is_depends_on(*args, **kwargs):
                    # OFF --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off(*args, **kwargs)
                else:
                    # OFF --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start(*args, **kwargs)
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped(*args, **kwargs)
            elif event == "recheck":
                if not self.is_installed(*args, **kwargs):
                    # OFF --> NOT_INSTALLED : recheck [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed(*args, **kwargs)
        elif self.state == "NOT_INSTALLED":
            if event == "start":
                if not self.is_installed(*args, **kwargs):
                    # NOT_INSTALLED --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed(*args, **kwargs)
                elif not self.is_depends_on(*args, **kwargs):
                    # NOT_INSTALLED --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off(*args, **kwargs)
                else:
                    # NOT_INSTALLED --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start(*args, **kwargs)
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped(*args, **kwargs)
            elif event == "recheck":
                if self.is_installed(*args, **kwargs):
                    # NOT_INSTALLED --> OFF : recheck [is_installed] / do_report_installed
                    self.state = "OFF"
                    self.do_report_installed(*args, **kwargs)
        elif self.state == "DEPENDS_OFF":
            if event == "start":
                if not self.is_installed(*args, **kwargs):
                    # DEPENDS_OFF --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed(*args, **kwargs)
                elif not self.is_depends_on(*args, **kwargs):
                    # DEPENDS_OFF --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off(*args, **kwargs)
                else:
                    # DEPENDS_OFF --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start(*args, **kwargs)
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped(*args, **kwargs)
            elif event == "recheck":
                if not self.is_installed(*args, **kwargs):
                    # DEPENDS_OFF --> NOT_INSTALLED : recheck [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed(*args, **kwargs)
        elif self.state == "FAILED":
            if event == "start":
                if not self.is_installed(*args, **kwargs):
                    # FAILED --> NOT_INSTALLED : start [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed(*args, **kwargs)
                elif not self.is_depends_on(*args, **kwargs):
                    # FAILED --> DEPENDS_OFF : start [is_installed && !is_depends_on] / do_report_depends_off
                    self.state = "DEPENDS_OFF"
                    self.do_report_depends_off(*args, **kwargs)
                else:
                    # FAILED --> STARTING : start [is_installed && is_depends_on] / do_start
                    self.state = "STARTING"
                    self.do_start(*args, **kwargs)
            elif event == "stop":
                self.state = "OFF"
                self.do_report_stopped(*args, **kwargs)
            elif event == "recheck":
                if not self.is_installed(*args, **kwargs):
                    # FAILED --> NOT_INSTALLED : recheck [!is_installed] / do_report_not_installed
                    self.state = "NOT_INSTALLED"
                    self.do_report_not_installed(*args, **kwargs)
        elif self.state == "STARTING":
            if event == "started":
                self.state = "ON"
                self.do_report_started(*args, **kwargs)
            elif event == "start-failed":
                self.state = "FAILED"
                self.do_report_start_failed(*args, **kwargs)
        elif self.state == "ON":
            if event == "stop":
                self.state = "STOPPING"
                self.do_stop(*args, **kwargs)
            elif event == "start":
                self.state = "ON"
                self.do_report_started(*args, **kwargs)
        elif self.state == "STOPPING":
            if event == "stopped":
                self.state = "OFF"
                self.do_report_stopped(*args, **kwargs)
            elif event == "stop-failed":
                self.state = "OFF"
                self.do_report_stop_failed(*args, **kwargs)
