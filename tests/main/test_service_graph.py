from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.main.service_framework import service_graph
from bitdust.main.service_framework.service_graph import DependencyCycle

DEPENDS = {
    "service_network": (),
    "service_gateway": ("service_network",),
    "service_tcp": ("service_network",),
    "service_p2p": ("service_gateway", "service_tcp"),
    "service_chat": ("service_p2p",),
    "service_lonely": ("service_missing",),
}


def test_start_order_puts_dependencies_first() -> None:
    order = service_graph.start_order(DEPENDS)
    assert set(order) == set(DEPENDS)
    for name, deps in DEPENDS.items():
        for dep in deps:
            if dep in DEPENDS:
                assert order.index(dep) < order.index(name)


def test_cycle_is_named() -> None:
    with pytest.raises(DependencyCycle, match="service_a -> service_b -> service_a"):
        service_graph.start_order({"service_a": ("service_b",), "service_b": ("service_a",)})


def test_missing_dependencies() -> None:
    assert service_graph.missing_dependencies(DEPENDS) == {"service_lonely": ["service_missing"]}


def test_all_dependencies_in_start_order() -> None:
    assert service_graph.all_dependencies(DEPENDS, "service_chat") == [
        "service_network",
        "service_gateway",
        "service_tcp",
        "service_p2p",
    ]
    assert service_graph.all_dependencies(DEPENDS, "service_network") == []


def test_all_dependents_in_stop_order() -> None:
    assert service_graph.all_dependents(DEPENDS, "service_gateway") == ["service_chat", "service_p2p"]
    assert service_graph.all_dependents(DEPENDS, "service_chat") == []
    assert service_graph.all_dependents(DEPENDS, "service_network")[-1] in ("service_gateway", "service_tcp")


def test_root_distance() -> None:
    assert service_graph.root_distance(DEPENDS, "service_network") == 0
    assert service_graph.root_distance(DEPENDS, "service_chat") == 3
    assert service_graph.root_distance(DEPENDS, "service_lonely") == 0


@given(st.lists(st.lists(st.integers(0, 19), max_size=4), min_size=1, max_size=20))
def test_random_acyclic_graphs_order_correctly(edges: list[list[int]]) -> None:
    # service i may only depend on services with a lower number: always acyclic
    depends = {f"service_{i}": tuple(f"service_{j}" for j in deps if j < i) for i, deps in enumerate(edges)}
    order = service_graph.start_order(depends)
    assert sorted(order) == sorted(depends)
    for name, deps in depends.items():
        for dep in deps:
            assert order.index(dep) < order.index(name)
        for dependent in service_graph.all_dependents(depends, name):
            assert name in service_graph.all_dependencies(depends, dependent)
