# generated from automats/id_registrator.md — do not edit; run `make automats`
"""State machine ``id_registrator``: constants, event methods and dispatch generated from automats/id_registrator.md.

The hand-written ``bitdust.userid.id_registrator.IdRegistrator`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload

if TYPE_CHECKING:
    from twisted.python.failure import Failure
    from bitdust.crypt.rsa_key import RsaKey


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
    PAYLOADS = {
        "key-ready": ("key",),
        "key-failed": ("failure",),
        "register-failed": ("failure",),
        "save-failed": ("failure",),
    }
    EDGE_STATES = {
        "start": frozenset({"AT_STARTUP"}),
        "key-ready": frozenset({"KEY_GENERATE"}),
        "key-failed": frozenset({"KEY_GENERATE"}),
        "registered": frozenset({"REGISTER"}),
        "register-failed": frozenset({"REGISTER"}),
        "saved": frozenset({"SAVE"}),
        "save-failed": frozenset({"SAVE"}),
    }
    IGNORED = {}
    DEADLINES = frozenset()

    def start(self) -> None:
        """Send ``start``."""
        self.automat("start")

    def key_ready(self, *, key: RsaKey) -> None:
        """Send ``key-ready`` with its payload."""
        self.automat("key-ready", key=key)

    def key_failed(self, *, failure: Failure) -> None:
        """Send ``key-failed`` with its payload."""
        self.automat("key-failed", failure=failure)

    def registered(self) -> None:
        """Send ``registered``."""
        self.automat("registered")

    def register_failed(self, *, failure: Failure) -> None:
        """Send ``register-failed`` with its payload."""
        self.automat("register-failed", failure=failure)

    def saved(self) -> None:
        """Send ``saved``."""
        self.automat("saved")

    def save_failed(self, *, failure: Failure) -> None:
        """Send ``save-failed`` with its payload."""
        self.automat("save-failed", failure=failure)

    if TYPE_CHECKING:
        # Implemented by bitdust.userid.id_registrator.IdRegistrator; see automats/id_registrator.md.
        def do_generate_key(self) -> None: ...
        def do_build_identity(self, *, key: RsaKey) -> None: ...
        def do_register_all(self, *, key: RsaKey) -> None: ...
        def do_report_failure(self, *, failure: Failure) -> None: ...
        def do_save_identity(self) -> None: ...
        def do_report_success(self) -> None: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "start":
                self.state = "KEY_GENERATE"
                self.do_generate_key()
        elif self.state == "KEY_GENERATE":
            if event == "key-ready":
                self.state = "REGISTER"
                self.do_build_identity(key=cast("RsaKey", payload["key"]))
                self.do_register_all(key=cast("RsaKey", payload["key"]))
            elif event == "key-failed":
                self.state = "FAILED"
                self.do_report_failure(failure=cast("Failure", payload["failure"]))
        elif self.state == "REGISTER":
            if event == "registered":
                self.state = "SAVE"
                self.do_save_identity()
            elif event == "register-failed":
                self.state = "FAILED"
                self.do_report_failure(failure=cast("Failure", payload["failure"]))
        elif self.state == "SAVE":
            if event == "saved":
                self.state = "DONE"
                self.do_report_success()
            elif event == "save-failed":
                self.state = "FAILED"
                self.do_report_failure(failure=cast("Failure", payload["failure"]))
