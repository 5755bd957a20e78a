# generated from automats/tcp_connection.md — do not edit; run `make automats`
"""State machine ``tcp_connection``: constants, event methods and dispatch generated from automats/tcp_connection.md.

The hand-written ``bitdust.transport.tcp.connection.TcpConnection`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload

if TYPE_CHECKING:
    from twisted.python.failure import Failure
    from bitdust.transport.tcp.auth import ReceivedAuth


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
            "proof-ok",
            "refused",
            "signed",
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
    PAYLOADS = {
        "lost": ("reason",),
        "hello": ("nonce",),
        "auth": ("received",),
        "proof-ok": ("idurl",),
        "refused": ("failure",),
    }
    EDGE_STATES = {
        "made": frozenset({"AT_STARTUP"}),
        "hello": frozenset({"GREETING"}),
        "signed": frozenset({"ANSWERING", "CLAIM_HELD", "CLOSING", "PROVING"}),
        "auth": frozenset({"ANSWERING", "CHECKING", "CLAIM_HELD", "OPEN", "PROVED", "PROVING", "UNPROVED"}),
        "proof-ok": frozenset({"CHECKING", "CLOSING"}),
        "refused": frozenset({"CHECKING", "CLOSED", "CLOSING"}),
        "closing": frozenset({"ANSWERING", "CHECKING", "CLAIM_HELD", "GREETING", "OPEN", "PROVED", "PROVING", "UNPROVED"}),
        "lost": frozenset({"ANSWERING", "CHECKING", "CLAIM_HELD", "CLOSING", "GREETING", "OPEN", "PROVED", "PROVING", "UNPROVED"}),
    }
    IGNORED = {
        "hello": frozenset({"CLOSING"}),
        "signed": frozenset({"CLOSED"}),
        "auth": frozenset({"CLOSING"}),
        "proof-ok": frozenset({"CLOSED"}),
        "closing": frozenset({"CLOSED", "CLOSING"}),
    }
    DEADLINES = frozenset()

    def made(self) -> None:
        """Send ``made``."""
        self.automat("made")

    def hello(self, *, nonce: bytes) -> None:
        """Send ``hello`` with its payload."""
        self.automat("hello", nonce=nonce)

    def signed(self) -> None:
        """Send ``signed``."""
        self.automat("signed")

    def auth(self, *, received: ReceivedAuth) -> None:
        """Send ``auth`` with its payload."""
        self.automat("auth", received=received)

    def proof_ok(self, *, idurl: str) -> None:
        """Send ``proof-ok`` with its payload."""
        self.automat("proof-ok", idurl=idurl)

    def refused(self, *, failure: Failure) -> None:
        """Send ``refused`` with its payload."""
        self.automat("refused", failure=failure)

    def closing(self) -> None:
        """Send ``closing``."""
        self.automat("closing")

    def lost(self, *, reason: Failure) -> None:
        """Send ``lost`` with its payload."""
        self.automat("lost", reason=reason)

    if TYPE_CHECKING:
        # Implemented by bitdust.transport.tcp.connection.TcpConnection; see automats/tcp_connection.md.
        def do_register(self) -> None: ...
        def do_sign_auth(self, *, nonce: bytes | None = None, idurl: str | None = None) -> None: ...
        def do_release_sends(self) -> None: ...
        def do_report_malformed(self, *, received: ReceivedAuth) -> None: ...
        def do_keep_claim(self, *, received: ReceivedAuth) -> None: ...
        def do_verify_claim(self, *, received: ReceivedAuth | None = None) -> None: ...
        def do_report_repeated(self, *, received: ReceivedAuth) -> None: ...
        def do_accept_proof(self, *, idurl: str) -> None: ...
        def do_bind_prover(self, *, idurl: str) -> None: ...
        def do_settle_proof(self, *, idurl: str | None = None, failure: Failure | None = None) -> None: ...
        def do_bind_dialled(self, *, idurl: str) -> None: ...
        def do_report_unexpected(self, *, idurl: str) -> None: ...
        def do_report_refused(self, *, failure: Failure) -> None: ...
        def do_drop_hostile(self, *, failure: Failure) -> None: ...
        def do_release(self, *, reason: Failure) -> None: ...
        def is_outgoing(self, *, nonce: bytes | None = None, idurl: str | None = None) -> bool: ...
        def is_malformed(self, *, received: ReceivedAuth) -> bool: ...
        def is_checkable(self, *, received: ReceivedAuth) -> bool: ...
        def is_expected_prover(self, *, idurl: str) -> bool: ...
        def is_hostile(self, *, failure: Failure) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "AT_STARTUP":
            if event == "made":
                self.state = "GREETING"
                self.do_register()
        elif self.state == "GREETING":
            if event == "hello":
                if self.is_outgoing(nonce=cast("bytes", payload["nonce"])):
                    # GREETING --> PROVING : hello [is_outgoing] / do_sign_auth
                    self.state = "PROVING"
                    self.do_sign_auth(nonce=cast("bytes", payload["nonce"]))
                else:
                    # GREETING --> OPEN : hello [!is_outgoing]
                    self.state = "OPEN"
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "PROVING":
            if event == "signed":
                self.state = "OPEN"
                self.do_release_sends()
            elif event == "auth":
                if self.is_malformed(received=cast("ReceivedAuth", payload["received"])):
                    # PROVING --> CLOSING : auth [is_malformed] / do_report_malformed
                    self.state = "CLOSING"
                    self.do_report_malformed(received=cast("ReceivedAuth", payload["received"]))
                else:
                    # PROVING --> CLAIM_HELD : auth [!is_malformed] / do_keep_claim
                    self.state = "CLAIM_HELD"
                    self.do_keep_claim(received=cast("ReceivedAuth", payload["received"]))
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "CLAIM_HELD":
            if event == "signed":
                self.state = "CHECKING"
                self.do_release_sends()
                self.do_verify_claim()
            elif event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(received=cast("ReceivedAuth", payload["received"]))
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "OPEN":
            if event == "auth":
                if self.is_malformed(received=cast("ReceivedAuth", payload["received"])):
                    # OPEN --> CLOSING : auth [is_malformed] / do_report_malformed
                    self.state = "CLOSING"
                    self.do_report_malformed(received=cast("ReceivedAuth", payload["received"]))
                elif self.is_checkable(received=cast("ReceivedAuth", payload["received"])):
                    # OPEN --> CHECKING : auth [is_checkable] / do_keep_claim, do_verify_claim
                    self.state = "CHECKING"
                    self.do_keep_claim(received=cast("ReceivedAuth", payload["received"]))
                    self.do_verify_claim(received=cast("ReceivedAuth", payload["received"]))
                else:
                    # OPEN --> UNPROVED : auth [!is_checkable] / do_keep_claim
                    self.state = "UNPROVED"
                    self.do_keep_claim(received=cast("ReceivedAuth", payload["received"]))
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "CHECKING":
            if event == "proof-ok":
                if not self.is_outgoing(idurl=cast("str", payload["idurl"])):
                    # CHECKING --> ANSWERING : proof-ok [!is_outgoing] / do_accept_proof, do_bind_prover, do_sign_auth, do_settle_proof
                    self.state = "ANSWERING"
                    self.do_accept_proof(idurl=cast("str", payload["idurl"]))
                    self.do_bind_prover(idurl=cast("str", payload["idurl"]))
                    self.do_sign_auth(idurl=cast("str", payload["idurl"]))
                    self.do_settle_proof(idurl=cast("str", payload["idurl"]))
                elif self.is_expected_prover(idurl=cast("str", payload["idurl"])):
                    # CHECKING --> PROVED : proof-ok [is_outgoing && is_expected_prover] / do_accept_proof, do_bind_dialled, do_settle_proof
                    self.state = "PROVED"
                    self.do_accept_proof(idurl=cast("str", payload["idurl"]))
                    self.do_bind_dialled(idurl=cast("str", payload["idurl"]))
                    self.do_settle_proof(idurl=cast("str", payload["idurl"]))
                else:
                    # CHECKING --> PROVED : proof-ok [is_outgoing && !is_expected_prover] / do_accept_proof, do_report_unexpected, do_settle_proof
                    self.state = "PROVED"
                    self.do_accept_proof(idurl=cast("str", payload["idurl"]))
                    self.do_report_unexpected(idurl=cast("str", payload["idurl"]))
                    self.do_settle_proof(idurl=cast("str", payload["idurl"]))
            elif event == "refused":
                if self.is_hostile(failure=cast("Failure", payload["failure"])):
                    # CHECKING --> CLOSING : refused [is_hostile] / do_report_refused, do_drop_hostile, do_settle_proof
                    self.state = "CLOSING"
                    self.do_report_refused(failure=cast("Failure", payload["failure"]))
                    self.do_drop_hostile(failure=cast("Failure", payload["failure"]))
                    self.do_settle_proof(failure=cast("Failure", payload["failure"]))
                else:
                    # CHECKING --> UNPROVED : refused [!is_hostile] / do_report_refused, do_settle_proof
                    self.state = "UNPROVED"
                    self.do_report_refused(failure=cast("Failure", payload["failure"]))
                    self.do_settle_proof(failure=cast("Failure", payload["failure"]))
            elif event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(received=cast("ReceivedAuth", payload["received"]))
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "ANSWERING":
            if event == "signed":
                self.state = "PROVED"
            elif event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(received=cast("ReceivedAuth", payload["received"]))
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "PROVED":
            if event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(received=cast("ReceivedAuth", payload["received"]))
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "UNPROVED":
            if event == "auth":
                self.state = "CLOSING"
                self.do_report_repeated(received=cast("ReceivedAuth", payload["received"]))
            elif event == "closing":
                self.state = "CLOSING"
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "CLOSING":
            if event == "signed":
                self.state = "CLOSING"
                self.do_release_sends()
            elif event == "proof-ok":
                self.state = "CLOSING"
                self.do_settle_proof(idurl=cast("str", payload["idurl"]))
            elif event == "refused":
                self.state = "CLOSING"
                self.do_report_refused(failure=cast("Failure", payload["failure"]))
                self.do_settle_proof(failure=cast("Failure", payload["failure"]))
            elif event == "lost":
                self.state = "CLOSED"
                self.do_release(reason=cast("Failure", payload["reason"]))
        elif self.state == "CLOSED":
            if event == "refused":
                self.state = "CLOSED"
                self.do_report_refused(failure=cast("Failure", payload["failure"]))
