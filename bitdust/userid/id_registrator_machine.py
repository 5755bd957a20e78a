# generated from automats/id_registrator.md — do not edit; run `make automats`
"""State machine ``id_registrator``: constants and dispatch generated from automats/id_registrator.md.

The hand-written ``bitdust.userid.id_registrator.IdRegistrator`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


class IdRegistratorMachine(Automat):
    NAME = "id_registrator"
    SOURCE = "automats/id_registrator.md"
    STATES = (
        "AT_STARTUP",
        "KEY_GENERATE",
        "REGISTER",
        "FAILED",
        "SAVE",
        "DONE",
    )
    EVENTS = frozenset(
        {
            "key-failed",
            "key-ready",
            "register-failed",
            "registered",
            "save-failed",
            "saved",
            "start",
        }
    )
    INITIAL_STATE = "AT_STARTUP"
    FINAL_STATES = frozenset(
        {
            "DONE",
            "FAILED",
        }
    )
    FAILURE_STATE = "FAILED"
    TIMERS = {}
    ACTIONS = (
        "do_generate_key",
        "do_build_identity",
        "do_register_all",
        "do_report_failure",
        "do_save_identity",
        "do_report_success",
    )
    CONDITIONS = ()

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "start":
                self.state = "KEY_GENERATE"
                self.do_generate_key(*args, **kwargs)
        elif self.state == "KEY_GENERATE":
            if event == "key-ready":
                self.state = "REGISTER"
                self.do_build_identity(*args, **kwargs)
                self.do_register_all(*args, **kwargs)
            elif event == "key-failed":
                self.state = "FAILED"
                self.do_report_failure(*args, **kwargs)
        elif self.state == "REGISTER":
            if event == "registered":
                self.state = "SAVE"
                self.do_save_identity(*args, **kwargs)
            elif event == "register-failed":
                self.state = "FAILED"
                self.do_report_failure(*args, **kwargs)
        elif self.state == "SAVE":
            if event == "saved":
                self.state = "DONE"
                self.do_report_success(*args, **kwargs)
            elif event == "save-failed":
                self.state = "FAILED"
                self.do_report_failure(*args, **kwargs)
