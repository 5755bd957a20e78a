"""nickname_publisher: keep our nickname record alive in the DHT (see automats/nickname_publisher.md).

The machine owns what used to be flags of ``service_entangled_dht`` (a publication under way,
another one wanted, the refresh timer) and the last outcome the node reports as
``network_status``'s ``dht.nickname``. It knows the service only through two callables:
``publish()`` (one publication, firing with its :class:`NicknameOutcome`) and ``nickname()``
(the name we publish, for the outcome of a publication that raised), so a test drives it with a
recording fake on a ``task.Clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NotRequired, TypedDict

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.dht.nickname import NICKNAME_REFRESH
from bitdust.dht.nickname_publisher_machine import NicknamePublisherMachine

NICKNAME_RETRY = 5 * 60  # seconds before trying again after a failed publication


class NicknameOutcome(TypedDict):
    """What the last publication achieved, as ``network_status`` shows it under ``dht.nickname``."""

    state: Literal["not-published", "published", "failed"]
    nickname: NotRequired[str | None]
    position: NotRequired[int]
    key: NotRequired[str]
    reason: NotRequired[str]


Publish = Callable[[], "defer.Deferred[NicknameOutcome]"]


class NicknamePublisher(NicknamePublisherMachine):
    """``publish()`` asks for a publication; ``outcome`` says how the last one went and
    ``next_refresh_at`` when the next one is due; ``stop()`` ends it and destroys the machine."""

    def __init__(
        self,
        *,
        publish: Publish,
        nickname: Callable[[], str | None],
        outcome: NicknameOutcome | None = None,
        refresh: float = NICKNAME_REFRESH,
        retry: float = NICKNAME_RETRY,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._publish = publish
        self._nickname = nickname
        self.refresh_delay = refresh
        self.retry_delay = retry
        #: a restarted service hands over the outcome it last showed, as the flags kept it before
        self.outcome: NicknameOutcome = outcome if outcome is not None else {"state": "not-published"}
        self.next_refresh_at: float | None = None

    # -- conditions ---------------------------------------------------------------------------

    def is_refresh_wanted(self, *, outcome: NicknameOutcome) -> bool:
        """Without an identity there is nothing to keep alive: the next ``publish`` says when."""
        return outcome["state"] != "not-published"

    # -- actions ------------------------------------------------------------------------------

    def do_publish(self, *, outcome: NicknameOutcome | None = None, failure: Failure | None = None) -> None:
        self.next_refresh_at = None
        d = defer.maybeDeferred(self._publish)
        d.addCallbacks(self._published, self._failed)

    def do_remember_outcome(self, *, outcome: NicknameOutcome) -> None:
        self.outcome = outcome

    def do_remember_failure(self, *, failure: Failure) -> None:
        # so the refresh deadline tries again soon, not a whole refresh period later
        self.outcome = {"state": "failed", "nickname": self._nickname(), "reason": failure.getErrorMessage()}
        self.log.failure("publishing our nickname failed", failure)

    def do_schedule_refresh(self, *, outcome: NicknameOutcome | None = None, failure: Failure | None = None) -> None:
        delay = self.refresh_delay if self.outcome["state"] == "published" else self.retry_delay
        self.next_refresh_at = self.clock.seconds() + delay
        self.start_deadline("refresh", delay)

    def do_stop(self) -> None:
        self.next_refresh_at = None
        self.destroy()

    # -- helpers ------------------------------------------------------------------------------

    def _published(self, outcome: NicknameOutcome) -> None:
        """The end of a publication; one that ends after ``stop`` has nobody left to tell."""
        if not self.destroyed:
            self.published(outcome=outcome)

    def _failed(self, failure: Failure) -> None:
        if not self.destroyed:
            self.publish_failed(failure=failure)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "nickname": self.outcome.get("nickname"), "outcome": self.outcome["state"]}
