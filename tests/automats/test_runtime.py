"""The generated gate machine on the runtime, driven on a ``task.Clock``."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import task

from bitdust.automats.errors import PayloadError, UnexpectedEventError, UnknownEventError
from bitdust.automats.registry import AutomatRegistry
from bitdust.automats.runtime import Automat, Transition
from bitdust.automats.source import parse_source
from tests.automats.helpers import SOURCES, LogCapture, load_generated, recording_class

# (from state, condition answers, event, new state, actions called in order)
EDGES = [
    ("CLOSED", {"is_powered": True}, "open", "OPENING", ["do_start_motor", "do_light_on"]),
    ("CLOSED", {"is_locked": True}, "open", "LOCKED", ["do_beep"]),
    ("CLOSED", {}, "open", "CLOSED", ["do_refuse"]),
    ("CLOSED", {}, "lock", "LOCKED", ["do_lock"]),
    ("CLOSED", {}, "remove", "GONE", ["do_detach"]),
    ("LOCKED", {"is_key_valid": True}, "unlock", "CLOSED", ["do_unlock"]),
    ("LOCKED", {}, "unlock", "LOCKED", ["do_beep"]),
    ("OPENING", {}, "timer-500ms", "OPENING", ["do_step"]),
    ("OPENING", {"is_fully_open": True}, "timer-500ms", "OPEN", ["do_stop_motor"]),
    ("OPENING", {}, "close", "CLOSING", ["do_reverse_motor"]),
    ("OPEN", {"is_blocked": True}, "timer-2sec", "OPEN", ["do_beep"]),
    ("OPEN", {}, "timer-2sec", "CLOSING", ["do_start_motor"]),
    ("OPEN", {}, "close", "CLOSING", ["do_start_motor"]),
    ("CLOSING", {}, "timer-2sec", "CLOSING", ["do_beep"]),
    ("CLOSING", {}, "open", "OPENING", ["do_reverse_motor"]),
    ("CLOSING", {}, "closed-reached", "CLOSED", ["do_stop_motor", "do_light_off"]),
    ("BROKEN", {}, "repair", "CLOSED", []),
]


def make(gate_class: type, clock: task.Clock, **kwargs: Any) -> Any:
    return gate_class(clock=clock, **kwargs)


def test_edge_table_covers_every_edge_of_the_source() -> None:
    source = parse_source(SOURCES / "gate.md")
    edges = {(e.source, e.event, e.target, tuple(e.actions)) for e in source.edges}
    covered = {(state, event, new, tuple(actions)) for state, _answers, event, new, actions in EDGES}
    assert covered == edges


@pytest.mark.parametrize(("state", "answers", "event", "new", "actions"), EDGES)
def test_every_edge(gate_class: type, clock: task.Clock, state, answers, event, new, actions) -> None:
    gate = make(gate_class, clock, answers=answers)
    gate.state = state
    payload = {name: f"{name} value" for name in gate.PAYLOADS.get(event, ())}
    gate.automat(event, **payload)
    assert gate.state == new
    assert gate.calls == actions
    assert all(args == () and kwargs == payload for _name, args, kwargs in gate.call_args)


def test_initial_state_and_identity(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock)
    assert gate.state == "CLOSED" == gate.INITIAL_STATE
    assert (gate.name, gate.id, gate.index) == ("gate", "gate", 0)
    assert make(gate_class, clock, instance_id="gate-front").id == "gate-front"
    assert repr(gate) == f"<{type(gate).__name__} gate#0 CLOSED>"


def test_first_matching_condition_wins(gate_class: type, clock: task.Clock) -> None:
    # both the first and the second guard hold: source order decides
    gate = make(gate_class, clock, answers={"is_powered": True, "is_locked": True})
    gate.automat("open")
    assert gate.state == "OPENING"
    assert gate.calls == ["do_start_motor", "do_light_on"]


@pytest.mark.parametrize("values", list(itertools.product([False, True], repeat=4)))
def test_and_or_not(gate_class: type, clock: task.Clock, values: tuple[bool, ...]) -> None:
    powered, blocked, locked, night = values
    answers = {"is_powered": powered, "is_blocked": blocked, "is_locked": locked, "is_night": night}
    gate = make(gate_class, clock, answers=answers)
    gate.automat("open")
    if powered and not blocked:
        expected = "OPENING"
    elif locked or (blocked and night):
        expected = "LOCKED"
    else:
        expected = "CLOSED"
    assert gate.state == expected


def test_conditions_short_circuit(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_locked": True})
    gate.automat("open")
    assert gate.asked == ["is_powered", "is_locked"]


def test_declared_event_without_transition_is_ignored(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock)
    changes = []
    gate.add_state_changed_callback(lambda *args: changes.append(args))
    gate.automat("close")
    gate.automat("closed-reached", why="no reason")
    assert gate.state == "CLOSED"
    assert gate.calls == [] and changes == []
    assert [(t.event, t.from_state, t.to_state) for t in gate.history] == [
        ("close", "CLOSED", "CLOSED"),
        ("closed-reached", "CLOSED", "CLOSED"),
    ]


def test_unknown_event_strict_raises(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock)
    assert gate.strict is True  # no registry: strict by default
    with pytest.raises(UnknownEventError, match="unknown event 'opne' in state CLOSED"):
        gate.automat("opne")
    with pytest.raises(UnknownEventError):
        gate.event("opne")
    assert clock.getDelayedCalls() == [] and gate.history == []


def test_unknown_event_lenient_is_logged_and_counted(gate_class: type, clock: task.Clock) -> None:
    capture = LogCapture()
    registry = AutomatRegistry(strict=False)
    gate = make(gate_class, clock, registry=registry, log=capture.logger)
    assert gate.strict is False
    gate.automat("opne")
    gate.event("opne")
    clock.advance(0)
    assert gate.state == "CLOSED"
    assert gate.unknown_events == 2 and registry.unknown_events == 2
    assert capture.levels().count("error") == 2
    assert gate.history == []
    assert make(gate_class, clock, registry=registry, strict=True).strict is True


def test_action_event_runs_after_the_current_transition(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_powered": True})
    seen = []

    def start_motor(self: Any) -> None:
        seen.append(self.state)  # the state is already the new one while actions run
        self.automat("close")
        seen.append(self.state)  # queued, not processed yet
        self.calls.append("after-nested-call")

    gate.hooks["do_start_motor"] = start_motor
    changes = []
    gate.add_state_changed_callback(lambda a, old, new, event: changes.append((old, new, event)))
    gate.automat("open")
    assert seen == ["OPENING", "OPENING"]
    assert gate.calls == ["do_start_motor", "after-nested-call", "do_light_on", "do_reverse_motor"]
    assert changes == [("CLOSED", "OPENING", "open"), ("OPENING", "CLOSING", "close")]
    assert gate.state == "CLOSING"


def test_queued_events_keep_their_order(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_powered": True})

    def start_motor(self: Any) -> None:
        self.automat("close")
        self.automat("closed-reached", why="why")

    gate.hooks["do_start_motor"] = start_motor
    gate.automat("open")
    assert gate.state == "CLOSED"
    assert [t.event for t in gate.history] == ["open", "close", "closed-reached"]
    assert gate.call_args[-1] == ("do_light_off", (), {"why": "why"})


def test_event_is_queued_on_the_clock(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock)
    gate.state = "CLOSING"
    gate.event("closed-reached", why="me")
    assert gate.state == "CLOSING" and gate.calls == []
    clock.advance(0)
    assert gate.state == "CLOSED"
    assert gate.call_args == [("do_stop_motor", (), {"why": "me"}), ("do_light_off", (), {"why": "me"})]
    assert clock.getDelayedCalls() == []


def _pending_timers(clock: task.Clock) -> list[str]:
    return sorted(call.args[0] for call in clock.getDelayedCalls() if call.args)


def test_timer_fires_every_period_only_in_its_state(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_powered": True})
    assert _pending_timers(clock) == []
    clock.advance(10)
    assert gate.calls == []
    gate.automat("open")
    assert _pending_timers(clock) == ["timer-500ms"]
    clock.advance(0.4)
    assert gate.calls.count("do_step") == 0
    clock.advance(0.1)
    assert gate.calls.count("do_step") == 1
    clock.pump([0.5, 0.5, 0.5])
    assert gate.calls.count("do_step") == 4
    assert [t.time for t in gate.history if t.event == "timer-500ms"] == [10.5, 11.0, 11.5, 12.0]
    gate.answers["is_fully_open"] = True
    clock.advance(0.5)
    assert gate.state == "OPEN"
    assert _pending_timers(clock) == ["timer-2sec"]  # the 500 ms timer was cancelled on leaving
    clock.advance(10)
    assert gate.calls.count("do_step") == 4


def test_shared_timer_keeps_its_rhythm_across_its_states(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_blocked": True})
    gate.state = "CLOSING"
    gate.automat("open")  # CLOSING -> OPENING: no timer-2sec there
    gate.answers["is_fully_open"] = True
    clock.advance(0.5)  # OPENING -> OPEN starts timer-2sec at t=0.5
    assert gate.state == "OPEN"
    clock.advance(2)  # t=2.5: blocked, beeps and stays
    clock.advance(2)  # t=4.5: again
    assert gate.calls.count("do_beep") == 2
    clock.advance(1)  # t=5.5
    gate.automat("close")  # OPEN -> CLOSING: timer-2sec also runs here, not restarted
    clock.advance(1)  # t=6.5: next tick of the same rhythm
    assert gate.calls.count("do_beep") == 3
    assert gate.history[-1] == Transition(6.5, "timer-2sec", "CLOSING", "CLOSING")
    gate.automat("closed-reached", why="done")
    assert _pending_timers(clock) == []


def test_timer_restarts_fresh_on_reentry(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_powered": True})
    gate.automat("open")
    clock.advance(0.3)
    gate.automat("close")
    gate.automat("open")  # back to OPENING at t=0.3
    clock.advance(0.3)  # t=0.6: the old timer would have fired at 0.5
    assert "do_step" not in gate.calls
    clock.advance(0.2)  # t=0.8 = 0.3 + 0.5
    assert gate.calls.count("do_step") == 1


def test_timer_of_the_initial_state_starts_at_construction(tmp_path: Path, clock: task.Clock) -> None:
    source = tmp_path / "ticker.md"
    source.write_text(
        "---\nname: ticker\nmodule: t.ticker\nclass: Ticker\ntimers:\n  timer-1min: 60\n---\n"
        "```mermaid\nstateDiagram-v2\n[*] --> IDLE\nIDLE --> IDLE : timer-1min / do_tick\n```\n"
    )
    ticker = recording_class(load_generated(source, tmp_path))(clock=clock)
    clock.advance(59)
    assert ticker.calls == []
    clock.advance(1)
    clock.advance(60)
    assert ticker.calls == ["do_tick", "do_tick"]
    ticker.destroy()
    assert clock.getDelayedCalls() == []


def test_exception_moves_to_failure_state(gate_class: type, clock: task.Clock) -> None:
    capture = LogCapture()
    gate = make(gate_class, clock, answers={"is_powered": True}, log=capture.logger)
    changes = []
    gate.add_state_changed_callback(lambda a, old, new, event: changes.append((old, new, event)))

    def broken(self: Any) -> None:
        self.automat("close")
        raise RuntimeError("motor jammed")

    gate.hooks["do_start_motor"] = broken
    gate.automat("open")
    assert gate.state == "BROKEN"
    assert isinstance(gate.last_error, RuntimeError)
    assert changes == [("CLOSED", "BROKEN", "open")]
    assert gate.history[-1].to_state == "BROKEN"
    assert "do_light_on" not in gate.calls
    failures = [e for e in capture.events if "log_failure" in e]
    assert len(failures) == 1 and failures[0]["log_failure"].check(RuntimeError)
    assert _pending_timers(clock) == []  # OPENING was never really entered
    assert gate.info()["last_error"] == "RuntimeError: motor jammed"
    gate.automat("repair")
    assert gate.state == "CLOSED"


def test_exception_in_condition_moves_to_failure_state(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_powered": ValueError("no sensor")}, log=LogCapture().logger)
    gate.automat("open")
    assert gate.state == "BROKEN" and gate.calls == []


def test_exception_propagates_without_failure_state(gate_class: type, clock: task.Clock) -> None:
    class NoFailure(gate_class):
        FAILURE_STATE = None

    capture = LogCapture()
    gate = NoFailure(clock=clock, answers={"is_powered": True}, log=capture.logger)
    changes = []
    gate.add_state_changed_callback(lambda a, old, new, event: changes.append((old, new)))

    def broken(self: Any) -> None:
        self.automat("close")
        raise RuntimeError("motor jammed")

    gate.hooks["do_start_motor"] = broken
    with pytest.raises(RuntimeError, match="motor jammed"):
        gate.automat("open")
    # the change A() made is recorded, the queued "close" is dropped and logged
    assert gate.state == "OPENING"
    assert changes == [("CLOSED", "OPENING")]
    assert [(t.event, t.to_state) for t in gate.history] == [("open", "OPENING")]
    assert _pending_timers(clock) == ["timer-500ms"]
    assert any("dropped" in text for text in capture.formats("error"))
    gate.hooks.clear()
    gate.automat("close")  # the machine is usable again
    assert gate.state == "CLOSING"


def test_history_is_a_ring_buffer(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, history_size=3)
    for event in ["lock", "unlock", "unlock", "unlock", "unlock"]:
        clock.advance(1)
        gate.automat(event)
    assert gate.history == [
        Transition(3.0, "unlock", "LOCKED", "LOCKED"),
        Transition(4.0, "unlock", "LOCKED", "LOCKED"),
        Transition(5.0, "unlock", "LOCKED", "LOCKED"),
    ]


def test_callbacks(gate_class: type, clock: task.Clock) -> None:
    capture = LogCapture()
    gate = make(gate_class, clock, log=capture.logger)
    seen = []

    def callback(automat: Automat, old: str, new: str, event: str) -> None:
        seen.append((automat, old, new, event))

    def failing(*args: Any) -> None:
        raise ValueError("observer bug")

    gate.add_state_changed_callback(failing)
    gate.add_state_changed_callback(callback)
    gate.add_state_changed_callback(callback)  # once only
    gate.automat("lock")
    assert seen == [(gate, "CLOSED", "LOCKED", "lock")]
    assert any("log_failure" in e for e in capture.events)  # the failing observer is logged
    gate.remove_state_changed_callback(callback)
    gate.remove_state_changed_callback(callback)  # harmless
    gate.automat("unlock")
    gate.answers["is_key_valid"] = True
    gate.automat("unlock")
    assert len(seen) == 1


def test_registry_listener_sees_every_machine(gate_class: type, clock: task.Clock, registry) -> None:
    seen = []
    registry.add_listener(lambda a, old, new, event: seen.append((a.index, old, new, event)))
    first, second = make(gate_class, clock, registry=registry), make(gate_class, clock, registry=registry)
    first.automat("lock")
    second.automat("remove")
    assert seen == [(1, "CLOSED", "LOCKED", "lock"), (2, "CLOSED", "GONE", "remove")]


def test_transitions_are_logged_at_debug(gate_class: type, clock: task.Clock) -> None:
    capture = LogCapture()
    gate = make(gate_class, clock, log=capture.logger, instance_id="g1")
    gate.automat("lock")
    debug = [e for e in capture.events if e["log_level"].name == "debug" and e.get("event") == "lock"]
    assert debug and (debug[0]["automat"], debug[0]["old"], debug[0]["new"]) == ("g1", "CLOSED", "LOCKED")


def test_destroy(gate_class: type, clock: task.Clock, registry) -> None:
    capture = LogCapture()
    gate = make(gate_class, clock, registry=registry, answers={"is_powered": True}, log=capture.logger)
    gate.automat("open")
    gate.event("close")
    assert len(clock.getDelayedCalls()) == 2
    gate.destroy()
    assert gate.destroyed and gate.state == "OPENING"
    assert clock.getDelayedCalls() == []
    assert registry.get(gate.index) is None and len(registry) == 0
    gate.automat("close")
    gate.event("close")
    clock.advance(5)
    assert gate.state == "OPENING" and gate.calls == ["do_start_motor", "do_light_on"]
    assert any("destroyed" in text for text in capture.formats("info"))
    gate.destroy()  # twice is fine


def test_destroy_from_an_action(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_powered": True})

    def start_motor(self: Any) -> None:
        self.automat("close")
        self.destroy()

    gate.hooks["do_start_motor"] = start_motor
    gate.automat("open")
    assert gate.destroyed and gate.state == "OPENING"
    assert "do_reverse_motor" not in gate.calls
    assert clock.getDelayedCalls() == []


def test_to_json_and_info(gate_class: type, clock: task.Clock, registry) -> None:
    gate = make(gate_class, clock, registry=registry, instance_id="gate-1")
    clock.advance(3)
    gate.automat("lock")
    assert gate.to_json() == {"index": 1, "id": "gate-1", "name": "gate", "state": "LOCKED"}
    info = gate.info()
    assert info["index"] == 1 and info["state"] == "LOCKED"
    assert info["events"] == sorted(gate.EVENTS)
    assert info["states"] == list(gate.STATES)
    assert info["timers"] == {"timer-500ms": 0.5, "timer-2sec": 2.0}
    assert info["transitions"] == [{"time": 3.0, "event": "lock", "from": "CLOSED", "to": "LOCKED"}]
    assert info["unknown_events"] == 0 and info["unexpected_events"] == 0 and info["last_error"] is None


def test_base_class_has_no_dispatch(clock: task.Clock) -> None:
    with pytest.raises(NotImplementedError):
        Automat(clock=clock).A("anything", {})


# -- the ignore policy and payloads -------------------------------------------------------------


@pytest.mark.unexpected_events
def test_undeclared_unexpected_event_raises_in_strict_mode(gate_class: type, clock: task.Clock) -> None:
    # CLOSED has no transition on unlock, and gate.md does not list it under 'ignore:' for CLOSED.
    gate = make(gate_class, clock)
    assert gate.strict is True
    with pytest.raises(UnexpectedEventError, match="gate: unexpected event 'unlock' in state CLOSED"):
        gate.automat("unlock")
    assert gate.state == "CLOSED" and gate.calls == [] and gate.asked == []


@pytest.mark.unexpected_events
def test_undeclared_unexpected_event_is_logged_and_dropped_when_not_strict(gate_class: type, clock: task.Clock) -> None:
    capture = LogCapture()
    registry = AutomatRegistry(strict=False)
    gate = make(gate_class, clock, registry=registry, log=capture.logger)
    gate.automat("unlock")
    assert gate.state == "CLOSED" and gate.calls == [] and gate.asked == []
    assert gate.unexpected_events == 1 and registry.unexpected_events == 1 and gate.info()["unexpected_events"] == 1
    [error] = [e for e in capture.events if e["log_level"].name == "error"]
    assert (error["machine"], error["automat"], error["state"], error["event"]) == ("gate", "gate", "CLOSED", "unlock")
    gate.automat("lock")  # the machine goes on
    assert gate.state == "LOCKED"


def test_declared_ignores_are_silent_in_strict_mode(gate_class: type, clock: task.Clock) -> None:
    capture = LogCapture()
    gate = make(gate_class, clock, log=capture.logger)
    assert gate.strict is True
    gate.automat("close")  # 'ignore:' CLOSED: [close, closed-reached]
    gate.automat("closed-reached", why="already")
    assert gate.state == "CLOSED" and gate.unexpected_events == 0
    assert capture.formats("error") == [] and capture.formats("warn") == []


def test_a_payload_other_than_the_declared_one_raises(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, registry=AutomatRegistry(strict=False))
    with pytest.raises(PayloadError, match="event 'closed-reached' carries why, got nothing"):
        gate.automat("closed-reached")
    with pytest.raises(PayloadError, match="event 'open' carries nothing, got why"):
        gate.automat("open", why="because")
    with pytest.raises(PayloadError):
        gate.event("closed-reached", reason="misspelt")
    assert gate.history == [] and clock.getDelayedCalls() == []


def test_typed_event_methods_send_their_event_with_its_payload(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock, answers={"is_powered": True})
    gate.open()
    gate.close()
    gate.closed_reached(why="typed")
    assert gate.state == "CLOSED"
    assert gate.call_args[-1] == ("do_light_off", (), {"why": "typed"})
    with pytest.raises(TypeError):
        gate.closed_reached("positional")
    # timers are sent by the clock: no method for them
    assert not hasattr(gate, "timer_2sec") and not hasattr(gate, "timer_500ms")


def test_a_deadline_the_source_does_not_declare_is_refused(gate_class: type, clock: task.Clock) -> None:
    gate = make(gate_class, clock)
    with pytest.raises(ValueError, match="'open' is not one of the deadlines of automats/gate.md"):
        gate.start_deadline("open", 1.0)
    assert clock.getDelayedCalls() == []
