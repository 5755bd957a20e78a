"""Random event sequences on the gate: the generated dispatch agrees with an interpreter of the
parsed source (an event with no transition is dropped where the source ignores it, and raises in
strict mode everywhere else); timers run exactly in the states that declare them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet import task

from bitdust.automats import conditions
from bitdust.automats.errors import UnexpectedEventError
from bitdust.automats.source import MachineSource, parse_source
from tests.automats.helpers import SOURCES

SOURCE = parse_source(SOURCES / "gate.md")
EVENTS = sorted(SOURCE.events)
CONDITIONS = SOURCE.conditions

answers_strategy = st.lists(st.booleans(), min_size=len(CONDITIONS), max_size=len(CONDITIONS))
step = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(EVENTS), answers_strategy),
    st.tuples(st.just("advance"), st.sampled_from([0, 0.25, 0.5, 1, 2, 3.5]), answers_strategy),
)


def expected_step(source: MachineSource, state: str, event: str, answers: dict[str, bool]) -> tuple[str, list[str]]:
    """What the diagram says should happen: the first edge whose condition holds, else nothing."""
    for edge in source.edges:
        if edge.source == state and edge.event == event:
            if edge.condition is None or conditions.evaluate(edge.condition, answers.__getitem__):
                return edge.target, list(edge.actions)
    return state, []


def timers_of(state: str) -> set[str]:
    """The timers the source says run in ``state``."""
    return {event for event, _period in SOURCE.timers if state in SOURCE.timer_states(event)}


def running_timers(clock: task.Clock) -> set[str]:
    return {call.args[0] for call in clock.getDelayedCalls() if call.active()}


@pytest.mark.unexpected_events
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.sampled_from(SOURCE.states), steps=st.lists(step, max_size=40))
def test_random_sequences(gate_class: type, start: str, steps: list[tuple[str, Any, list[bool]]]) -> None:
    clock = task.Clock()
    # starting anywhere (a subclass with another initial state) reaches the rare edges too
    started_class = type("StartedGate", (gate_class,), {"INITIAL_STATE": start})
    gate = started_class(clock=clock, strict=True)
    assert running_timers(clock) == timers_of(start)
    for kind, value, drawn in steps:
        answers = dict(zip(CONDITIONS, drawn, strict=True))
        gate.answers = answers
        if kind == "event":
            before = gate.state
            gate.calls.clear()
            payload = {field.name: "drawn" for field in SOURCE.payload(value)}
            if before not in SOURCE.edge_states(value) and before not in SOURCE.ignored_states(value):
                with pytest.raises(UnexpectedEventError):
                    gate.automat(value, **payload)
                assert (gate.state, gate.calls) == (before, [])
            else:
                gate.automat(value, **payload)
                assert (gate.state, gate.calls) == expected_step(SOURCE, before, value, answers)
        else:
            clock.advance(value)
        assert gate.state in gate.STATES
        assert running_timers(clock) == timers_of(gate.state)
    gate.destroy()
    assert clock.getDelayedCalls() == []
