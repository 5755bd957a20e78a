# generated from automats/tcp_connection.md — do not edit; run `make automats`
"""State machine ``tcp_connection``: constants and dispatch generated from automats/tcp_connection.md.

The hand-written ``bitdust.transport.tcp.connection.TcpConnection`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


class TcpConnectionMachine(Automat):
    NAME = "tcp_connection"
    SOURCE = "automats/tcp_connection.md"
    STATES = (
        "AT_STARTUP",
        "GREETING",
        "PROVING",
        "OPEN",
        "CLOSING",
        "CLAIM_HELD",
        "CHECKING",
        "UNPROVED",
        "ANSWERING",
        "PROVED",
        "CLOSED",
    )
    EVENTS = frozenset(
        {
            "auth",
            "closing",
            "hello",
            "lost",
            "made",
            "refused",
            "signed",
            "verified",
        }
    )
    INITIAL_STATE = "AT_STARTUP"
    FINAL_STATES = frozenset(
        {
            "CLOSED",
        }
    )
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_register",
        "do_sign_auth",
        "do_release_sends",
        "do_report_malformed",
        "do_keep_claim",
        "do_verify_claim",
        "do_report_repeated",
        "do_accept_proof",
        "do_bind_prover",
        "do_settle_proof",
        "do_bind_dialled",
        "do_report_unexpected",
        "do_report_refused",
        "do_drop_hostile",
        "do_release",
    )
    CONDITIONS = (
        "is_outgoing",
        "is_malformed",
        "is_checkable",
        "is_expected_prover",
        "is_hostile",
    )

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "made":
                self.state = "GREETING"
                self.do_register(*args, **kwargs)
        elif self.state == "GREETING":
            if event == "hello":
                if self.is_outgoing(*args, **kwargs):
                    # GREETING --> PROVING : hello [is_outgoing] / do_sign_auth
                    self.state = "PROVING"
                    self.do_sign_auth(*args, **kwargs)
                else:
                    # GREETING --> OPEN : hello [!is_outgoing]
                    self.state = "OPEN"
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "PROVING":
            if event == "signed":
                self.state = "OPEN"
                self.do_release_sends(*args, **kwargs)
            elif event == "auth":
                if self.is_malformed(*args, **kwargs):
                    # PROVING --> CLOSING : auth [is_malformed] / do_report_malformed
                    self.state = "CLOSING"
                    self.do_report_malformed(*args, **kwargs)
                else:
                    # PROVING --> CLAIM_HELD : auth [!is_malformed] / do_keep_claim
                    self.state = "CLAIM_HELD"
                    self.do_keep_claim(*args, **kwargs)
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "CLAIM_HELD":
            if event == "signed":
                self.state = "CHECKING"
                self.do_release_sends(*args, **kwargs)
                self.do_verify_claim(*args, **kwargs)
            elif event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(*args, **kwargs)
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "OPEN":
            if event == "auth":
                if self.is_malformed(*args, **kwargs):
                    # OPEN --> CLOSING : auth [is_malformed] / do_report_malformed
                    self.state = "CLOSING"
                    self.do_report_malformed(*args, **kwargs)
                elif self.is_checkable(*args, **kwargs):
                    # OPEN --> CHECKING : auth [is_checkable] / do_keep_claim, do_verify_claim
                    self.state = "CHECKING"
                    self.do_keep_claim(*args, **kwargs)
                    self.do_verify_claim(*args, **kwargs)
                else:
                    # OPEN --> UNPROVED : auth [!is_checkable] / do_keep_claim
                    self.state = "UNPROVED"
                    self.do_keep_claim(*args, **kwargs)
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "CHECKING":
            if event == "verified":
                if not self.is_outgoing(*args, **kwargs):
                    # CHECKING --> ANSWERING : verified [!is_outgoing] / do_accept_proof, do_bind_prover, do_sign_auth, do_settle_proof
                    self.state = "ANSWERING"
                    self.do_accept_proof(*args, **kwargs)
                    self.do_bind_prover(*args, **kwargs)
                    self.do_sign_auth(*args, **kwargs)
                    self.do_settle_proof(*args, **kwargs)
                elif self.is_expected_prover(*args, **kwargs):
                    # CHECKING --> PROVED : verified [is_outgoing && is_expected_prover] / do_accept_proof, do_bind_dialled, do_settle_proof
                    self.state = "PROVED"
                    self.do_accept_proof(*args, **kwargs)
                    self.do_bind_dialled(*args, **kwargs)
                    self.do_settle_proof(*args, **kwargs)
                else:
                    # CHECKING --> PROVED : verified [is_outgoing && !is_expected_prover] / do_accept_proof, do_report_unexpected, do_settle_proof
                    self.state = "PROVED"
                    self.do_accept_proof(*args, **kwargs)
                    self.do_report_unexpected(*args, **kwargs)
                    self.do_settle_proof(*args, **kwargs)
            elif event == "refused":
                if self.is_hostile(*args, **kwargs):
                    # CHECKING --> CLOSING : refused [is_hostile] / do_report_refused, do_drop_hostile, do_settle_proof
                    self.state = "CLOSING"
                    self.do_report_refused(*args, **kwargs)
                    self.do_drop_hostile(*args, **kwargs)
                    self.do_settle_proof(*args, **kwargs)
                else:
                    # CHECKING --> UNPROVED : refused [!is_hostile] / do_report_refused, do_settle_proof
                    self.state = "UNPROVED"
                    self.do_report_refused(*args, **kwargs)
                    self.do_settle_proof(*args, **kwargs)
            elif event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(*args, **kwargs)
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "ANSWERING":
            if event == "signed":
                self.state = "PROVED"
            elif event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(*args, **kwargs)
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "PROVED":
            if event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(*args, **kwargs)
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "UNPROVED":
            if event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(*args, **kwargs)
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "CLOSING":
            if event == "signed":
                self.state = "CLOSING"
                self.do_release_sends(*args, **kwargs)
            elif event == "verified":
                self.state = "CLOSING"
                self.do_settle_proof(*args, **kwargs)
            elif event == "refused":
                self.state = "CLOSING"
                self.do_report_refused(*args, **kwargs)
                self.do_settle_proof(*args, **kwargs)
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(*args, **kwargs)
        elif self.state == "CLOSED":
            if event == "refused":
                self.state = "CLOSED"
                self.do_report_refused(*args, **kwargs)
