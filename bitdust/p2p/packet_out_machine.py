# generated from automats/packet_out.md — do not edit; run `make automats`
"""State machine ``packet_out``: constants and dispatch generated from automats/packet_out.md.

The hand-written ``bitdust.p2p.packet_out.PacketOut`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


class PacketOutMachine(Automat):
    NAME = "packet_out"
    SOURCE = "automats/packet_out.md"
    STATES = (
        "AT_STARTUP",
        "PREPARE",
        "SENDING",
        "FAILED",
        "ACK_WAIT",
        "DONE",
        "REFRESH",
        "RETRY_WAIT",
        "CANCELLED",
    )
    EVENTS = frozenset(
        {
            "ack",
            "attempt-timeout",
            "cancel",
            "fail",
            "prepare-failed",
            "prepared",
            "refreshed",
            "run",
            "send-failed",
            "sent",
        }
    )
    INITIAL_STATE = "AT_STARTUP"
    FINAL_STATES = frozenset(
        {
            "CANCELLED",
            "DONE",
            "FAILED",
        }
    )
    FAILURE_STATE = "FAILED"
    TIMERS = {}
    ACTIONS = (
        "do_prepare",
        "do_send",
        "do_report_failed",
        "do_wait_attempt",
        "do_report_done",
        "do_refresh_identity",
        "do_report_timeout",
        "do_report_cancelled",
    )
    CONDITIONS = (
        "is_ack_wanted",
        "is_retry_left",
        "is_route_changed",
    )

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "run":
                self.state = "PREPARE"
                self.do_prepare(*args, **kwargs)
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled(*args, **kwargs)
        elif self.state == "PREPARE":
            if event == "prepared":
                self.state = "SENDING"
                self.do_send(*args, **kwargs)
            elif event == "prepare-failed":
                self.state = "FAILED"
                self.do_report_failed(*args, **kwargs)
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled(*args, **kwargs)
        elif self.state == "SENDING":
            if event == "sent":
                if self.is_ack_wanted(*args, **kwargs):
                    # SENDING --> ACK_WAIT : sent [is_ack_wanted] / do_wait_attempt
                    self.state = "ACK_WAIT"
                    self.do_wait_attempt(*args, **kwargs)
                else:
                    # SENDING --> DONE : sent [!is_ack_wanted] / do_report_done
                    self.state = "DONE"
                    self.do_report_done(*args, **kwargs)
            elif event == "send-failed":
                self.state = "REFRESH"
                self.do_refresh_identity(*args, **kwargs)
            elif event == "ack":
                self.state = "DONE"
                self.do_report_done(*args, **kwargs)
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(*args, **kwargs)
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled(*args, **kwargs)
        elif self.state == "ACK_WAIT":
            if event == "ack":
                self.state = "DONE"
                self.do_report_done(*args, **kwargs)
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(*args, **kwargs)
            elif event == "attempt-timeout":
                if self.is_retry_left(*args, **kwargs):
                    # ACK_WAIT --> REFRESH : attempt-timeout [is_retry_left] / do_refresh_identity
                    self.state = "REFRESH"
                    self.do_refresh_identity(*args, **kwargs)
                else:
                    # ACK_WAIT --> FAILED : attempt-timeout [!is_retry_left] / do_report_timeout
                    self.state = "FAILED"
                    self.do_report_timeout(*args, **kwargs)
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled(*args, **kwargs)
        elif self.state == "REFRESH":
            if event == "refreshed":
                if self.is_route_changed(*args, **kwargs):
                    # REFRESH --> SENDING : refreshed [is_route_changed] / do_send
                    self.state = "SENDING"
                    self.do_send(*args, **kwargs)
                elif self.is_retry_left(*args, **kwargs):
                    # REFRESH --> RETRY_WAIT : refreshed [!is_route_changed && is_retry_left] / do_wait_attempt
                    self.state = "RETRY_WAIT"
                    self.do_wait_attempt(*args, **kwargs)
                else:
                    # REFRESH --> FAILED : refreshed [!is_route_changed && !is_retry_left] / do_report_failed
                    self.state = "FAILED"
                    self.do_report_failed(*args, **kwargs)
            elif event == "ack":
                self.state = "DONE"
                self.do_report_done(*args, **kwargs)
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(*args, **kwargs)
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled(*args, **kwargs)
        elif self.state == "RETRY_WAIT":
            if event == "attempt-timeout":
                self.state = "SENDING"
                self.do_send(*args, **kwargs)
            elif event == "ack":
                self.state = "DONE"
                self.do_report_done(*args, **kwargs)
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(*args, **kwargs)
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled(*args, **kwargs)
