"""The issue's figures on 200 simulated nodes (in-memory datagrams, deterministic seed)."""

from __future__ import annotations

import math

import pytest

from bitdust.dht.simulation import Simulation

SIZE = 200


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return Simulation(SIZE, seed=2024).build()


@pytest.fixture(scope="module")
def stored(sim: Simulation) -> list[str]:
    keys = sim.store(150)
    assert len(keys) == 150
    return keys


def test_every_node_joined(sim: Simulation) -> None:
    assert all(node.layers[0].joined for node in sim.nodes[1:])
    assert min(len(node.layers[0].table) for node in sim.nodes) >= sim.settings.k


def test_values_are_kept_by_the_k_nearest_nodes(sim: Simulation, stored: list[str]) -> None:
    exact = sum(set(sim.holders(key)) >= set(sim.nearest(key, sim.settings.k)) for key in stored)
    assert exact / len(stored) >= 0.95


def test_lookups_succeed_in_few_hops(sim: Simulation, stored: list[str]) -> None:
    values = sim.get(stored)
    assert values.success_rate >= 0.99
    assert sorted(values.hops)[len(values.hops) // 2] <= math.ceil(math.log2(SIZE))
    nodes = sim.find_nodes(150)
    assert nodes.success_rate >= 0.99
    assert sorted(nodes.hops)[len(nodes.hops) // 2] <= math.ceil(math.log2(SIZE))


def test_values_survive_when_a_fifth_of_the_nodes_die(sim: Simulation, stored: list[str]) -> None:
    victims = sim.kill(0.2)
    assert len(victims) == SIZE // 5
    after = sim.get(stored)
    assert after.success_rate >= 0.95
    nodes = sim.find_nodes(100)
    assert nodes.success_rate >= 0.95


def test_the_same_seed_gives_the_same_run() -> None:
    first = Simulation(30, seed=9).build()
    second = Simulation(30, seed=9).build()
    assert [n.node_id for n in first.nodes] == [n.node_id for n in second.nodes]
    assert first.get(first.store(10)).to_json() == second.get(second.store(10)).to_json()
    assert first.clock.now == second.clock.now
