# generated from automats/shutdowner.md — do not edit; run `make automats`
"""State machine ``shutdowner``: constants and dispatch generated from automats/shutdowner.md.

The hand-written ``bitdust.main.shutdowner.Shutdowner`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


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
            "restart",
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

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "RUNNING":
            if event == "stop":
                self.state = "SERVICES_STOP"
                self.do_remember_mode(*args, **kwargs)
                self.do_stop_services(*args, **kwargs)
            elif event == "restart":
                self.state = "SERVICES_STOP"
                self.do_remember_mode(*args, **kwargs)
                self.do_stop_services(*args, **kwargs)
        elif self.state == "SERVICES_STOP":
            if event == "services-stopped":
                self.state = "INTERFACES_STOP"
                self.do_stop_interfaces(*args, **kwargs)
            elif event == "timer-30sec":
                self.state = "INTERFACES_STOP"
                self.do_report_timeout(*args, **kwargs)
                self.do_stop_interfaces(*args, **kwargs)
        elif self.state == "INTERFACES_STOP":
            if event == "interfaces-stopped":
                self.state = "FINISHED"
                self.do_release_home(*args, **kwargs)
                self.do_stop_reactor(*args, **kwargs)
            elif event == "timer-30sec":
                self.state = "FINISHED"
                self.do_report_timeout(*args, **kwargs)
                self.do_release_home(*args, **kwargs)
                self.do_stop_reactor(*args, **kwargs)
