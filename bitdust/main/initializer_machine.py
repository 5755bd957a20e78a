# generated from automats/initializer.md — do not edit; run `make automats`
"""State machine ``initializer``: constants and dispatch generated from automats/initializer.md.

The hand-written ``bitdust.main.initializer.Initializer`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


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

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "run":
                self.state = "LOCAL"
                self.do_init_local(*args, **kwargs)
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(*args, **kwargs)
        elif self.state == "LOCAL":
            if event == "init-local-done":
                self.state = "SERVICES"
                self.do_start_services(*args, **kwargs)
            elif event == "init-local-failed":
                self.state = "FAILED"
                self.do_report_failure(*args, **kwargs)
                self.do_shutdown(*args, **kwargs)
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(*args, **kwargs)
        elif self.state == "SERVICES":
            if event == "services-started":
                self.state = "INTERFACES"
                self.do_start_interfaces(*args, **kwargs)
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(*args, **kwargs)
        elif self.state == "INTERFACES":
            if event == "interfaces-started":
                self.state = "READY"
                self.do_announce_ready(*args, **kwargs)
            elif event == "interfaces-failed":
                self.state = "FAILED"
                self.do_report_failure(*args, **kwargs)
                self.do_shutdown(*args, **kwargs)
            elif event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(*args, **kwargs)
        elif self.state == "READY":
            if event == "shutdown":
                self.state = "STOPPING"
                self.do_shutdown(*args, **kwargs)
