# generated from automats/network_connector.md — do not edit; run `make automats`
"""State machine ``network_connector``: constants and dispatch generated from automats/network_connector.md.

The hand-written ``bitdust.p2p.network_connector.NetworkConnector`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


class NetworkConnectorMachine(Automat):
    NAME = "network_connector"
    SOURCE = "automats/network_connector.md"
    STATES = (
        "AT_STARTUP",
        "CONNECTING",
        "CONNECTED",
        "DISCONNECTED",
    )
    EVENTS = frozenset(
        {
            "check-failed",
            "check-ok",
            "init",
            "reconnect",
            "timer-10min",
            "timer-30sec",
        }
    )
    INITIAL_STATE = "AT_STARTUP"
    FINAL_STATES = frozenset()
    FAILURE_STATE = "DISCONNECTED"
    TIMERS = {
        "timer-30sec": (30.0, frozenset({"DISCONNECTED"})),
        "timer-10min": (600.0, frozenset({"CONNECTED"})),
    }
    ACTIONS = (
        "do_check",
        "do_report_connected",
        "do_report_disconnected",
        "do_remember_reconnect",
    )
    CONDITIONS = (
        "is_reconnect_pending",
    )

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "init":
                self.state = "CONNECTING"
                self.do_check(*args, **kwargs)
        elif self.state == "CONNECTING":
            if event == "check-ok":
                if not self.is_reconnect_pending(*args, **kwargs):
                    # CONNECTING --> CONNECTED : check-ok [!is_reconnect_pending] / do_report_connected
                    self.state = "CONNECTED"
                    self.do_report_connected(*args, **kwargs)
                else:
                    # CONNECTING --> CONNECTING : check-ok [is_reconnect_pending] / do_check
                    self.state = "CONNECTING"
                    self.do_check(*args, **kwargs)
            elif event == "check-failed":
                if not self.is_reconnect_pending(*args, **kwargs):
                    # CONNECTING --> DISCONNECTED : check-failed [!is_reconnect_pending] / do_report_disconnected
                    self.state = "DISCONNECTED"
                    self.do_report_disconnected(*args, **kwargs)
                else:
                    # CONNECTING --> CONNECTING : check-failed [is_reconnect_pending] / do_check
                    self.state = "CONNECTING"
                    self.do_check(*args, **kwargs)
            elif event == "reconnect":
                self.state = "CONNECTING"
                self.do_remember_reconnect(*args, **kwargs)
        elif self.state == "CONNECTED":
            if event == "reconnect":
                self.state = "CONNECTING"
                self.do_check(*args, **kwargs)
            elif event == "timer-10min":
                self.state = "CONNECTING"
                self.do_check(*args, **kwargs)
        elif self.state == "DISCONNECTED":
            if event == "reconnect":
                self.state = "CONNECTING"
                self.do_check(*args, **kwargs)
            elif event == "timer-30sec":
                self.state = "CONNECTING"
                self.do_check(*args, **kwargs)
