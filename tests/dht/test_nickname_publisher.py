"""The nickname_publisher machine (automats/nickname_publisher.md) alone, on a task.Clock.

The publication is a recording fake: every call is counted and returns a Deferred the test fires,
so each edge is taken at the moment the test chooses. ``test_nickname_refresh.py`` runs the
machine through the DHT service on a simulated network.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, task
from twisted.logger import LogEvent, Logger

from bitdust.automats.registry import AutomatRegistry
from bitdust.dht.nickname_publisher import NicknameOutcome, NicknamePublisher

REFRESH = 1000.0
RETRY = 50.0
PUBLISHED: NicknameOutcome = {"state": "published", "nickname": "alice", "position": 0, "key": "alice:0"}
NO_IDENTITY: NicknameOutcome = {"state": "not-published", "reason": "no identity"}


class FakePublication:
    """Stands for the service's ``publish_nickname``: records each call, the test ends it."""

    def __init__(self) -> None:
        self.pending: list[defer.Deferred[NicknameOutcome]] = []

    @property
    def calls(self) -> int:
        return len(self.pending)

    def __call__(self) -> defer.Deferred[NicknameOutcome]:
        d: defer.Deferred[NicknameOutcome] = defer.Deferred()
        self.pending.append(d)
        return d

    def succeed(self, outcome: NicknameOutcome = PUBLISHED) -> None:
        self.pending[-1].callback(outcome)

    def fail(self, reason: str = "key store unreadable") -> None:
        self.pending[-1].errback(OSError(reason))


class Rig:
    def __init__(self) -> None:
        self.clock = task.Clock()
        self.registry = AutomatRegistry(strict=True)
        self.publication = FakePublication()
        self.logged: list[LogEvent] = []
        self.machine = NicknamePublisher(
            publish=self.publication,
            nickname=lambda: "alice",
            refresh=REFRESH,
            retry=RETRY,
            clock=self.clock,
            registry=self.registry,
            log=Logger(observer=self.logged.append),
        )

    def in_state(self, state: str) -> Rig:
        """Drive the machine into ``state`` through its own edges."""
        if state in ("PUBLISHING", "PUBLISH_AGAIN", "REFRESH_WAIT"):
            self.machine.publish()
        if state == "PUBLISH_AGAIN":
            self.machine.publish()
        if state == "REFRESH_WAIT":
            self.publication.succeed()
        assert self.machine.state == state
        return self


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_a_published_nickname_is_signed_again_every_refresh_period(rig: Rig) -> None:
    machine = rig.machine
    assert machine.state == "IDLE" and machine.outcome == {"state": "not-published"}
    machine.publish()
    assert machine.state == "PUBLISHING" and rig.publication.calls == 1
    rig.publication.succeed()
    assert machine.state == "REFRESH_WAIT" and machine.outcome == PUBLISHED
    assert machine.next_refresh_at == REFRESH
    rig.clock.advance(REFRESH - 1)
    assert rig.publication.calls == 1
    rig.clock.advance(1)
    assert machine.state == "PUBLISHING" and rig.publication.calls == 2 and machine.next_refresh_at is None


def test_without_an_identity_nothing_is_scheduled_until_the_next_publish(rig: Rig) -> None:
    rig.in_state("PUBLISHING").publication.succeed(NO_IDENTITY)
    assert rig.machine.state == "IDLE" and rig.machine.outcome == NO_IDENTITY
    assert rig.clock.getDelayedCalls() == [] and rig.machine.next_refresh_at is None
    rig.machine.publish()  # an identity appeared
    assert rig.machine.state == "PUBLISHING" and rig.publication.calls == 2


def test_a_publication_that_raised_is_tried_again_soon(rig: Rig) -> None:
    rig.in_state("PUBLISHING").publication.fail()
    machine = rig.machine
    assert machine.state == "REFRESH_WAIT"
    assert machine.outcome == {"state": "failed", "nickname": "alice", "reason": "key store unreadable"}
    assert machine.next_refresh_at == RETRY
    assert [event["log_format"] for event in rig.logged if "log_failure" in event] == ["publishing our nickname failed"]
    rig.clock.advance(RETRY)
    assert machine.state == "PUBLISHING" and rig.publication.calls == 2


def test_a_refused_position_is_tried_again_soon(rig: Rig) -> None:
    refused: NicknameOutcome = {"state": "failed", "nickname": "alice", "reason": "alice:0 refused: 3"}
    rig.in_state("PUBLISHING").publication.succeed(refused)
    assert rig.machine.state == "REFRESH_WAIT" and rig.machine.outcome == refused
    assert rig.machine.next_refresh_at == RETRY


def test_requests_during_a_publication_make_exactly_one_more(rig: Rig) -> None:
    machine = rig.in_state("PUBLISH_AGAIN").machine
    machine.publish()
    machine.publish()
    assert machine.state == "PUBLISH_AGAIN" and rig.publication.calls == 1
    rig.publication.succeed()
    assert machine.state == "PUBLISHING" and rig.publication.calls == 2 and machine.outcome == PUBLISHED
    assert rig.clock.getDelayedCalls() == []  # the one under way will schedule the refresh
    rig.publication.succeed()
    assert machine.state == "REFRESH_WAIT" and rig.publication.calls == 2


def test_a_failure_with_another_publication_wanted_publishes_again(rig: Rig) -> None:
    rig.in_state("PUBLISH_AGAIN").publication.fail("disk full")
    machine = rig.machine
    assert machine.state == "PUBLISHING" and rig.publication.calls == 2
    assert machine.outcome == {"state": "failed", "nickname": "alice", "reason": "disk full"}


def test_a_publish_while_waiting_publishes_at_once_and_drops_the_refresh(rig: Rig) -> None:
    rig.in_state("REFRESH_WAIT").machine.publish()
    assert rig.machine.state == "PUBLISHING" and rig.publication.calls == 2
    assert rig.clock.getDelayedCalls() == [] and rig.machine.next_refresh_at is None


def test_a_publication_that_ends_at_once_goes_through_in_one_call() -> None:
    outcomes: list[defer.Deferred[NicknameOutcome]] = [defer.succeed(PUBLISHED), defer.fail(OSError("no key"))]

    def publish() -> defer.Deferred[NicknameOutcome]:
        return outcomes.pop(0)

    clock = task.Clock()
    machine = NicknamePublisher(publish=publish, nickname=lambda: "alice", clock=clock, strict=True)
    machine.publish()
    assert machine.state == "REFRESH_WAIT" and machine.outcome == PUBLISHED
    machine.publish()
    assert machine.state == "REFRESH_WAIT" and machine.outcome["reason"] == "no key"
    machine.stop()


@pytest.mark.parametrize("state", ["IDLE", "PUBLISHING", "PUBLISH_AGAIN", "REFRESH_WAIT"])
def test_stop_leaves_nothing_behind_in_every_state(rig: Rig, state: str) -> None:
    rig.in_state(state)
    before: dict[str, Any] = dict(rig.machine.outcome)
    rig.machine.stop()
    assert rig.machine.state == "STOPPED" and rig.machine.destroyed
    assert rig.clock.getDelayedCalls() == [] and len(rig.registry) == 0 and rig.machine.next_refresh_at is None
    for d in rig.publication.pending:  # what was still under way ends after stop: dropped
        if not d.called:
            d.callback({"state": "published", "nickname": "late", "position": 1, "key": "late:1"})
    assert rig.machine.outcome == before and rig.publication.calls == len(rig.publication.pending)
    rig.machine.stop()  # a second stop is harmless
    rig.machine.publish()
    assert rig.publication.calls == len(rig.publication.pending)


def test_a_restarted_publisher_shows_the_last_outcome_until_its_own(rig: Rig) -> None:
    machine = NicknamePublisher(
        publish=rig.publication, nickname=lambda: "alice", outcome=PUBLISHED, clock=rig.clock, strict=True
    )
    assert machine.outcome == PUBLISHED and machine.to_json()["outcome"] == "published"
    machine.stop()
