"""AnswerBudget: a token bucket per creator and one for the node, on a task.Clock."""

from __future__ import annotations

import pytest
from twisted.internet import task

from bitdust.p2p.answer_budget import AnswerBudget


def test_a_creator_gets_its_burst_then_its_rate() -> None:
    clock = task.Clock()
    budget = AnswerBudget(clock, rate=2, burst=3)
    assert [budget.allow("a") for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)
    assert [budget.allow("a") for _ in range(2)] == [True, False]
    # another creator has its own bucket
    assert budget.allow("b") is True


def test_many_creators_together_are_bounded_by_the_node_bucket() -> None:
    clock = task.Clock()
    budget = AnswerBudget(clock, rate=1, burst=5, node_rate=10, node_burst=20)
    allowed = sum(budget.allow(f"c{n}") for n in range(100) for _ in range(5))
    assert allowed == 20
    clock.advance(1)
    assert sum(budget.allow(f"d{n}") for n in range(100)) == 10


def test_available_takes_and_stores_nothing() -> None:
    clock = task.Clock()
    budget = AnswerBudget(clock, rate=1, burst=1, max_creators=2)
    assert budget.allow("a") is True
    assert budget.available("a") is False
    for n in range(100):
        assert budget.available(f"stranger{n}") is True
    # the strangers asked about did not push "a" out of the table (which would refill it)
    assert budget.allow("a") is False


def test_the_table_of_creators_is_bounded() -> None:
    clock = task.Clock()
    budget = AnswerBudget(clock, max_creators=3)
    for n in range(50):
        budget.allow(f"c{n}")
    assert len(budget._buckets) == 3


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        AnswerBudget(task.Clock(), rate=0)
    with pytest.raises(ValueError):
        AnswerBudget(task.Clock(), max_creators=0)
