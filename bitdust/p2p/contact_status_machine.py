# generated from automats/contact_status.md — do not edit; run `make automats`
"""State machine ``contact_status``: constants and dispatch generated from automats/contact_status.md.

The hand-written ``bitdust.p2p.contact_status.ContactStatus`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


class ContactStatusMachine(Automat):
    NAME = "contact_status"
    SOURCE = "automats/contact_status.md"
    STATES = (
        "OFFLINE",
        "CONNECTED",
        "PING",
    )
    EVENTS = frozenset(
        {
            "check",
            "connection-lost",
            "inbox-packet",
            "outbox-failed",
            "ping-failed",
            "ping-ok",
            "went-offline",
        }
    )
    INITIAL_STATE = "OFFLINE"
    FINAL_STATES = frozenset()
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_report_connected",
        "do_ping",
        "do_report_offline",
    )
    CONDITIONS = ()

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "OFFLINE":
            if event == "inbox-packet":
                self.state = "CONNECTED"
                self.do_report_connected(*args, **kwargs)
            elif event == "check":
                self.state = "PING"
                self.do_ping(*args, **kwargs)
        elif self.state == "PING":
            if event == "inbox-packet":
                self.state = "CONNECTED"
                self.do_report_connected(*args, **kwargs)
            elif event == "ping-ok":
                self.state = "CONNECTED"
                self.do_report_connected(*args, **kwargs)
            elif event == "ping-failed":
                self.state = "OFFLINE"
                self.do_report_offline(*args, **kwargs)
            elif event == "outbox-failed":
                self.state = "OFFLINE"
                self.do_report_offline(*args, **kwargs)
            elif event == "went-offline":
                self.state = "OFFLINE"
                self.do_report_offline(*args, **kwargs)
        elif self.state == "CONNECTED":
            if event == "check":
                self.state = "PING"
                self.do_ping(*args, **kwargs)
            elif event == "connection-lost":
                self.state = "PING"
                self.do_ping(*args, **kwargs)
            elif event == "outbox-failed":
                self.state = "OFFLINE"
                self.do_report_offline(*args, **kwargs)
            elif event == "went-offline":
                self.state = "OFFLINE"
                self.do_report_offline(*args, **kwargs)
