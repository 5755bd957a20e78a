# generated from automats/nickname_publisher.md — do not edit; run `make automats`
"""State machine ``nickname_publisher``: constants and dispatch generated from automats/nickname_publisher.md.

The hand-written ``bitdust.dht.nickname_publisher.NicknamePublisher`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


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

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "IDLE":
            if event == "publish":
                self.state = "PUBLISHING"
                self.do_publish(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
        elif self.state == "PUBLISHING":
            if event == "publish":
                self.state = "PUBLISH_AGAIN"
            elif event == "published":
                if self.is_refresh_wanted(*args, **kwargs):
                    # PUBLISHING --> REFRESH_WAIT : published [is_refresh_wanted] / do_remember_outcome, do_schedule_refresh
                    self.state = "REFRESH_WAIT"
                    self.do_remember_outcome(*args, **kwargs)
                    self.do_schedule_refresh(*args, **kwargs)
                else:
                    # PUBLISHING --> IDLE : published [!is_refresh_wanted] / do_remember_outcome
                    self.state = "IDLE"
                    self.do_remember_outcome(*args, **kwargs)
            elif event == "publish-failed":
                self.state = "REFRESH_WAIT"
                self.do_remember_failure(*args, **kwargs)
                self.do_schedule_refresh(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
        elif self.state == "PUBLISH_AGAIN":
            if event == "publish":
                self.state = "PUBLISH_AGAIN"
            elif event == "published":
                self.state = "PUBLISHING"
                self.do_remember_outcome(*args, **kwargs)
                self.do_publish(*args, **kwargs)
            elif event == "publish-failed":
                self.state = "PUBLISHING"
                self.do_remember_failure(*args, **kwargs)
                self.do_publish(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
        elif self.state == "REFRESH_WAIT":
            if event == "refresh":
                self.state = "PUBLISHING"
                self.do_publish(*args, **kwargs)
            elif event == "publish":
                self.state = "PUBLISHING"
                self.do_publish(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
