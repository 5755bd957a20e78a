# generated from automats/packet_out.md — do not edit; run `make automats`
"""State machine ``packet_out``: constants, event methods and dispatch generated from automats/packet_out.md.

The hand-written ``bitdust.p2p.packet_out.PacketOut`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload

if TYPE_CHECKING:
    from twisted.python.failure import Failure
    from bitdust.p2p.packet import Packet


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
    PAYLOADS = {
        "prepare-failed": ("failure",),
        "send-failed": ("failure",),
        "ack": ("packet",),
        "fail": ("packet",),
    }
    EDGE_STATES = {
        "run": frozenset({"AT_STARTUP"}),
        "prepared": frozenset({"PREPARE"}),
        "prepare-failed": frozenset({"PREPARE"}),
        "sent": frozenset({"SENDING"}),
        "send-failed": frozenset({"SENDING"}),
        "ack": frozenset({"ACK_WAIT", "REFRESH", "RETRY_WAIT", "SENDING"}),
        "fail": frozenset({"ACK_WAIT", "REFRESH", "RETRY_WAIT", "SENDING"}),
        "attempt-timeout": frozenset({"ACK_WAIT", "RETRY_WAIT"}),
        "refreshed": frozenset({"REFRESH"}),
        "cancel": frozenset({"ACK_WAIT", "AT_STARTUP", "PREPARE", "REFRESH", "RETRY_WAIT", "SENDING"}),
    }
    IGNORED = {}
    DEADLINES = frozenset(
        {
            "attempt-timeout",
        }
    )

    def run(self) -> None:
        """Send ``run``."""
        self.automat("run")

    def prepared(self) -> None:
        """Send ``prepared``."""
        self.automat("prepared")

    def prepare_failed(self, *, failure: Failure) -> None:
        """Send ``prepare-failed`` with its payload."""
        self.automat("prepare-failed", failure=failure)

    def sent(self) -> None:
        """Send ``sent``."""
        self.automat("sent")

    def send_failed(self, *, failure: Failure) -> None:
        """Send ``send-failed`` with its payload."""
        self.automat("send-failed", failure=failure)

    def ack(self, *, packet: Packet) -> None:
        """Send ``ack`` with its payload."""
        self.automat("ack", packet=packet)

    def fail(self, *, packet: Packet) -> None:
        """Send ``fail`` with its payload."""
        self.automat("fail", packet=packet)

    def refreshed(self) -> None:
        """Send ``refreshed``."""
        self.automat("refreshed")

    def cancel(self) -> None:
        """Send ``cancel``."""
        self.automat("cancel")

    if TYPE_CHECKING:
        # Implemented by bitdust.p2p.packet_out.PacketOut; see automats/packet_out.md.
        def do_prepare(self) -> None: ...
        def do_send(self) -> None: ...
        def do_report_failed(self, *, failure: Failure | None = None, packet: Packet | None = None) -> None: ...
        def do_wait_attempt(self) -> None: ...
        def do_report_done(self, *, packet: Packet | None = None) -> None: ...
        def do_refresh_identity(self, *, failure: Failure | None = None) -> None: ...
        def do_report_timeout(self) -> None: ...
        def do_report_cancelled(self) -> None: ...
        def is_ack_wanted(self) -> bool: ...
        def is_retry_left(self) -> bool: ...
        def is_route_changed(self) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "run":
                self.state = "PREPARE"
                self.do_prepare()
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled()
        elif self.state == "PREPARE":
            if event == "prepared":
                self.state = "SENDING"
                self.do_send()
            elif event == "prepare-failed":
                self.state = "FAILED"
                self.do_report_failed(failure=cast("Failure", payload["failure"]))
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled()
        elif self.state == "SENDING":
            if event == "sent":
                if self.is_ack_wanted():
                    # SENDING --> ACK_WAIT : sent [is_ack_wanted] / do_wait_attempt
                    self.state = "ACK_WAIT"
                    self.do_wait_attempt()
                else:
                    # SENDING --> DONE : sent [!is_ack_wanted] / do_report_done
                    self.state = "DONE"
                    self.do_report_done()
            elif event == "send-failed":
                self.state = "REFRESH"
                self.do_refresh_identity(failure=cast("Failure", payload["failure"]))
            elif event == "ack":
                self.state = "DONE"
                self.do_report_done(packet=cast("Packet", payload["packet"]))
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(packet=cast("Packet", payload["packet"]))
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled()
        elif self.state == "ACK_WAIT":
            if event == "ack":
                self.state = "DONE"
                self.do_report_done(packet=cast("Packet", payload["packet"]))
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(packet=cast("Packet", payload["packet"]))
            elif event == "attempt-timeout":
                if self.is_retry_left():
                    # ACK_WAIT --> REFRESH : attempt-timeout [is_retry_left] / do_refresh_identity
                    self.state = "REFRESH"
                    self.do_refresh_identity()
                else:
                    # ACK_WAIT --> FAILED : attempt-timeout [!is_retry_left] / do_report_timeout
                    self.state = "FAILED"
                    self.do_report_timeout()
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled()
        elif self.state == "REFRESH":
            if event == "refreshed":
                if self.is_route_changed():
                    # REFRESH --> SENDING : refreshed [is_route_changed] / do_send
                    self.state = "SENDING"
                    self.do_send()
                elif self.is_retry_left():
                    # REFRESH --> RETRY_WAIT : refreshed [!is_route_changed && is_retry_left] / do_wait_attempt
                    self.state = "RETRY_WAIT"
                    self.do_wait_attempt()
                else:
                    # REFRESH --> FAILED : refreshed [!is_route_changed && !is_retry_left] / do_report_failed
                    self.state = "FAILED"
                    self.do_report_failed()
            elif event == "ack":
                self.state = "DONE"
                self.do_report_done(packet=cast("Packet", payload["packet"]))
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(packet=cast("Packet", payload["packet"]))
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled()
        elif self.state == "RETRY_WAIT":
            if event == "attempt-timeout":
                self.state = "SENDING"
                self.do_send()
            elif event == "ack":
                self.state = "DONE"
                self.do_report_done(packet=cast("Packet", payload["packet"]))
            elif event == "fail":
                self.state = "FAILED"
                self.do_report_failed(packet=cast("Packet", payload["packet"]))
            elif event == "cancel":
                self.state = "CANCELLED"
                self.do_report_cancelled()
