# generated from automats/nickname_publisher.md — do not edit; run `make automats`
"""State machine ``nickname_publisher``: constants, event methods and dispatch generated from automats/nickname_publisher.md.

The hand-written ``bitdust.dht.nickname_publisher.NicknamePublisher`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload

if TYPE_CHECKING:
    from twisted.python.failure import Failure
    from bitdust.dht.nickname_publisher import NicknameOutcome


class NicknamePublisherMachine(Automat):
    NAME = "nickname_publisher"
    SOURCE = "automats/nickname_publisher.md"
    STATES = (
        "IDLE",
        "PUBLISHING",
        "PUBLISH_AGAIN",
        "REFRESH_WAIT",
        "STOPPED",
    )
    EVENTS = frozenset(
        {
            "publish",
            "publish-failed",
            "published",
            "refresh",
            "stop",
        }
    )
    INITIAL_STATE = "IDLE"
    FINAL_STATES = frozenset(
        {
            "STOPPED",
        }
    )
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_publish",
        "do_remember_outcome",
        "do_schedule_refresh",
        "do_remember_failure",
        "do_stop",
    )
    CONDITIONS = (
        "is_refresh_wanted",
    )
    PAYLOADS = {
        "published": ("outcome",),
        "publish-failed": ("failure",),
    }
    EDGE_STATES = {
        "publish": frozenset({"IDLE", "PUBLISHING", "PUBLISH_AGAIN", "REFRESH_WAIT"}),
        "published": frozenset({"PUBLISHING", "PUBLISH_AGAIN"}),
        "publish-failed": frozenset({"PUBLISHING", "PUBLISH_AGAIN"}),
        "refresh": frozenset({"REFRESH_WAIT"}),
        "stop": frozenset({"IDLE", "PUBLISHING", "PUBLISH_AGAIN", "REFRESH_WAIT"}),
    }
    IGNORED = {}
    DEADLINES = frozenset(
        {
            "refresh",
        }
    )

    def publish(self) -> None:
        """Send ``publish``."""
        self.automat("publish")

    def published(self, *, outcome: NicknameOutcome) -> None:
        """Send ``published`` with its payload."""
        self.automat("published", outcome=outcome)

    def publish_failed(self, *, failure: Failure) -> None:
        """Send ``publish-failed`` with its payload."""
        self.automat("publish-failed", failure=failure)

    def stop(self) -> None:
        """Send ``stop``."""
        self.automat("stop")

    if TYPE_CHECKING:
        # Implemented by bitdust.dht.nickname_publisher.NicknamePublisher; see automats/nickname_publisher.md.
        def do_publish(self, *, outcome: NicknameOutcome | None = None, failure: Failure | None = None) -> None: ...
        def do_remember_outcome(self, *, outcome: NicknameOutcome) -> None: ...
        def do_schedule_refresh(self, *, outcome: NicknameOutcome | None = None, failure: Failure | None = None) -> None: ...
        def do_remember_failure(self, *, failure: Failure) -> None: ...
        def do_stop(self) -> None: ...
        def is_refresh_wanted(self, *, outcome: NicknameOutcome) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "IDLE":
            if event == "publish":
                self.state = "PUBLISHING"
                self.do_publish()
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
        elif self.state == "PUBLISHING":
            if event == "publish":
                self.state = "PUBLISH_AGAIN"
            elif event == "published":
                if self.is_refresh_wanted(outcome=cast("NicknameOutcome", payload["outcome"])):
                    # PUBLISHING --> REFRESH_WAIT : published [is_refresh_wanted] / do_remember_outcome, do_schedule_refresh
                    self.state = "REFRESH_WAIT"
                    self.do_remember_outcome(outcome=cast("NicknameOutcome", payload["outcome"]))
                    self.do_schedule_refresh(outcome=cast("NicknameOutcome", payload["outcome"]))
                else:
                    # PUBLISHING --> IDLE : published [!is_refresh_wanted] / do_remember_outcome
                    self.state = "IDLE"
                    self.do_remember_outcome(outcome=cast("NicknameOutcome", payload["outcome"]))
            elif event == "publish-failed":
                self.state = "REFRESH_WAIT"
                self.do_remember_failure(failure=cast("Failure", payload["failure"]))
                self.do_schedule_refresh(failure=cast("Failure", payload["failure"]))
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
        elif self.state == "PUBLISH_AGAIN":
            if event == "publish":
                self.state = "PUBLISH_AGAIN"
            elif event == "published":
                self.state = "PUBLISHING"
                self.do_remember_outcome(outcome=cast("NicknameOutcome", payload["outcome"]))
                self.do_publish(outcome=cast("NicknameOutcome", payload["outcome"]))
            elif event == "publish-failed":
                self.state = "PUBLISHING"
                self.do_remember_failure(failure=cast("Failure", payload["failure"]))
                self.do_publish(failure=cast("Failure", payload["failure"]))
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
        elif self.state == "REFRESH_WAIT":
            if event == "refresh":
                self.state = "PUBLISHING"
                self.do_publish()
            elif event == "publish":
                self.state = "PUBLISHING"
                self.do_publish()
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
