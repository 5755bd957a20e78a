"""``Automat.start_deadline``: a one-shot per-instance timer tied to the state it was started in.

A tiny hand-written machine (no generated source): ``start`` enters WAITING and starts the
``expired`` deadline; ``restart`` starts it again without leaving WAITING; ``poke`` is a self-transition
that does not touch it; ``leave`` goes back to IDLE; ``boom`` makes an action raise (FAILURE_STATE).
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import task

from bitdust.automats.registry import AutomatRegistry
from bitdust.automats.runtime import Automat


class Waiter(Automat):
    NAME = "waiter"
    STATES = ("IDLE", "WAITING", "DONE", "BROKEN")
    EVENTS = frozenset({"start", "restart", "poke", "leave", "expired", "other-expired", "boom"})
    INITIAL_STATE = "IDLE"
    FINAL_STATES = frozenset({"DONE"})
    FAILURE_STATE = "BROKEN"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expired: list[float] = []
        self.seconds = 5.0

    def A(self, event: str, *args: Any, **kwargs: Any) -> None:
        if self.state == "IDLE":
            if event == "start":
                self.state = "WAITING"
                self.start_deadline("expired", self.seconds)
            elif event == "expired":
                self.expired.append(self.clock.seconds())
        elif self.state == "WAITING":
            if event in ("restart",):
                self.state = "WAITING"
                self.start_deadline("expired", self.seconds)
            elif event == "poke":
                self.state = "WAITING"
            elif event == "leave":
                self.state = "IDLE"
            elif event == "expired":
                self.state = "DONE"
                self.expired.append(self.clock.seconds())
            elif event == "boom":
                self.state = "WAITING"
                raise RuntimeError("action failed")


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


@pytest.fixture
def waiter(clock: task.Clock) -> Waiter:
    return Waiter(clock=clock)


def test_deadline_fires_after_its_seconds_in_the_same_state(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    clock.advance(4.99)
    assert waiter.state == "WAITING" and waiter.expired == []
    clock.advance(0.01)
    assert waiter.state == "DONE" and waiter.expired == [5.0]
    assert clock.getDelayedCalls() == []


def test_deadline_fires_only_once(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    clock.advance(5)
    clock.advance(100)
    assert waiter.expired == [5.0]


def test_deadline_survives_a_self_transition(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    clock.advance(3)
    waiter.automat("poke")
    clock.advance(2)
    assert waiter.state == "DONE" and waiter.expired == [5.0]


def test_deadline_is_cancelled_when_the_state_changes(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    clock.advance(3)
    waiter.automat("leave")
    assert clock.getDelayedCalls() == []
    clock.advance(10)
    assert waiter.state == "IDLE" and waiter.expired == []


def test_leaving_and_coming_back_does_not_revive_the_old_deadline(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    clock.advance(3)
    waiter.automat("leave")
    waiter.seconds = 50
    waiter.automat("start")  # a new deadline, 50 s from now
    clock.advance(10)
    assert waiter.state == "WAITING" and waiter.expired == []
    clock.advance(40)
    assert waiter.expired == [53.0]


def test_starting_it_again_restarts_it(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    clock.advance(4)
    waiter.automat("restart")
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(4)
    assert waiter.state == "WAITING" and waiter.expired == []
    clock.advance(1)
    assert waiter.state == "DONE" and waiter.expired == [9.0]


def test_restart_may_shorten_it(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    waiter.seconds = 1
    waiter.automat("restart")
    clock.advance(1)
    assert waiter.expired == [1.0]


def test_deadline_started_from_outside_is_tied_to_the_current_state(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    waiter.start_deadline("other-expired", 2)
    waiter.automat("leave")
    assert clock.getDelayedCalls() == []


def test_deadlines_of_different_events_are_independent(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")  # "expired" in 5 s
    fired: list[str] = []
    waiter.add_state_changed_callback(lambda machine, old, new, event: fired.append(event))
    waiter.start_deadline("poke", 2)
    clock.advance(2)
    assert waiter.state == "WAITING"  # "poke" fired (no state change) and "expired" is still armed
    assert [t.event for t in waiter.history][-1] == "poke"
    clock.advance(3)
    assert waiter.state == "DONE" and fired == ["expired"]


@pytest.mark.parametrize("seconds", [0, -5])
def test_zero_or_negative_seconds_fire_on_the_next_clock_turn(
    clock: task.Clock, waiter: Waiter, seconds: float
) -> None:
    waiter.seconds = seconds
    waiter.automat("start")
    assert waiter.state == "WAITING"
    clock.advance(0)
    assert waiter.state == "DONE" and waiter.expired == [0.0]


def test_deadline_is_cancelled_on_destroy(clock: task.Clock) -> None:
    registry = AutomatRegistry(strict=True)
    waiter = Waiter(clock=clock, registry=registry)
    waiter.automat("start")
    waiter.destroy()
    assert clock.getDelayedCalls() == []
    clock.advance(10)
    assert waiter.state == "WAITING" and waiter.expired == []


def test_destroyed_machine_starts_no_deadline(clock: task.Clock, waiter: Waiter) -> None:
    waiter.destroy()
    waiter.start_deadline("expired", 1)
    assert clock.getDelayedCalls() == []


def test_failure_state_cancels_the_deadline(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    waiter.automat("boom")
    assert waiter.state == "BROKEN"
    assert clock.getDelayedCalls() == []
    clock.advance(10)
    assert waiter.expired == []


def test_deadline_firing_in_the_state_is_recorded_in_history(clock: task.Clock, waiter: Waiter) -> None:
    waiter.automat("start")
    clock.advance(5)
    assert [(t.time, t.event, t.from_state, t.to_state) for t in waiter.history] == [
        (0.0, "start", "IDLE", "WAITING"),
        (5.0, "expired", "WAITING", "DONE"),
    ]
