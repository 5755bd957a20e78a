from __future__ import annotations

from typing import Any

from twisted.internet import task

from bitdust.automats.registry import AutomatRegistry
from tests.automats.helpers import LogCapture


def test_indexes_are_monotonic_and_never_reused(gate_class: type, clock: task.Clock) -> None:
    registry = AutomatRegistry()
    gates = [gate_class(clock=clock, registry=registry) for _ in range(3)]
    assert [gate.index for gate in gates] == [1, 2, 3]
    assert len(registry) == 3
    gates[1].destroy()
    assert registry.get(2) is None and len(registry) == 2
    assert gate_class(clock=clock, registry=registry).index == 4
    assert [gate.index for gate in registry.list()] == [1, 3, 4]


def test_register_twice_keeps_the_index(gate_class: type, clock: task.Clock) -> None:
    registry = AutomatRegistry()
    gate = gate_class(clock=clock, registry=registry)
    assert registry.register(gate) == gate.index == 1
    assert len(registry) == 1
    registry.unregister(gate)
    registry.unregister(gate)  # unknown now: ignored
    assert len(registry) == 0


def test_get_list_find(gate_class: type, clock: task.Clock) -> None:
    registry = AutomatRegistry()
    first = gate_class(clock=clock, registry=registry, instance_id="front")
    second = gate_class(clock=clock, registry=registry, instance_id="back")
    assert registry.get(1) is first and registry.get(2) is second and registry.get(99) is None
    assert registry.list() == [first, second]
    assert registry.find("gate") == [first, second]
    assert registry.find("door") == []


def test_strict_flag_is_the_default_of_its_machines(gate_class: type, clock: task.Clock) -> None:
    assert gate_class(clock=clock, registry=AutomatRegistry(strict=True)).strict is True
    assert gate_class(clock=clock, registry=AutomatRegistry(strict=False)).strict is False
    assert AutomatRegistry().strict is False


def test_listeners(gate_class: type, clock: task.Clock) -> None:
    capture = LogCapture()
    registry = AutomatRegistry(log=capture.logger)
    seen: list[tuple[Any, ...]] = []

    def listener(automat: Any, old: str, new: str, event: str) -> None:
        seen.append((automat.id, old, new, event))

    def failing(*args: Any) -> None:
        raise RuntimeError("listener bug")

    registry.add_listener(failing)
    registry.add_listener(listener)
    registry.add_listener(listener)
    gate = gate_class(clock=clock, registry=registry)
    gate.automat("lock")
    assert seen == [("gate", "CLOSED", "LOCKED", "lock")]
    assert len([e for e in capture.events if "log_failure" in e]) == 1
    registry.remove_listener(listener)
    registry.remove_listener(listener)
    gate.automat("remove")  # LOCKED has no 'remove': nothing changes anyway
    gate.answers["is_key_valid"] = True
    gate.automat("unlock")
    assert len(seen) == 1


def test_registries_are_independent(gate_class: type, clock: task.Clock) -> None:
    one, two = AutomatRegistry(), AutomatRegistry()
    gate_class(clock=clock, registry=one)
    assert gate_class(clock=clock, registry=two).index == 1
    assert len(one) == len(two) == 1


def test_destroy_all(gate_class: type, clock: task.Clock) -> None:
    registry = AutomatRegistry()
    gates = [gate_class(clock=clock, registry=registry, answers={"is_powered": True}) for _ in range(3)]
    for gate in gates:
        gate.automat("open")
    assert len(clock.getDelayedCalls()) == 3
    registry.destroy_all()
    assert len(registry) == 0 and all(gate.destroyed for gate in gates)
    assert clock.getDelayedCalls() == []
