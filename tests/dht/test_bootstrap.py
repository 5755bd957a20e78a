"""The dht_bootstrap machine (see automats/dht_bootstrap.md) on a ``task.Clock``.

Seeds are fakes: an "up" seed answers a ping at once, a "down" one fails after ``RPC_TIMEOUT``
seconds, as the DHT protocol's request timeout would.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.automats.registry import AutomatRegistry
from bitdust.dht.bootstrap import DhtBootstrap
from bitdust.dht.errors import RpcTimeout
from bitdust.dht.messages import Contact
from bitdust.dht.node import DhtNode
from bitdust.dht.settings import DhtSettings

RPC_TIMEOUT = 2.0
SEED_A = ("10.0.0.1", 14441)
SEED_B = ("10.0.0.2", 14441)


class FakeSeeds:
    def __init__(self, clock: task.Clock) -> None:
        self.clock = clock
        self.up: dict[tuple[str, int], bytes] = {}
        self.pings: list[tuple[str, int]] = []

    def __call__(self, seed: tuple[str, int]) -> defer.Deferred[Any]:
        self.pings.append(seed)
        if seed in self.up:
            return defer.succeed(SimpleNamespace(sender=self.up[seed]))
        d: defer.Deferred[Any] = defer.Deferred()
        self.clock.callLater(RPC_TIMEOUT, d.errback, RpcTimeout(f"{seed} did not answer"))
        return d


class Harness:
    def __init__(self, backoff_min: float = 1.0, backoff_max: float = 8.0) -> None:
        self.clock = task.Clock()
        self.seeds = FakeSeeds(self.clock)
        self.layer_joins = 0
        self.registry = AutomatRegistry(strict=True)
        self.machine = DhtBootstrap(
            ping=self.seeds,
            join_layers=self._join_layers,
            backoff_min=backoff_min,
            backoff_max=backoff_max,
            clock=self.clock,
            registry=self.registry,
            instance_id="dht_bootstrap[test]",
        )

    def _join_layers(self) -> None:
        self.layer_joins += 1

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def retry_in(self) -> float | None:
        at = self.machine.next_retry_at
        return None if at is None else at - self.clock.seconds()


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_a_new_machine_is_idle_and_schedules_nothing(h: Harness) -> None:
    assert h.machine.state == "IDLE" and h.machine.bootstrap_state == "idle"
    assert h.clock.getDelayedCalls() == []
    assert h.registry.find("dht_bootstrap") == [h.machine]


def test_no_seeds_means_the_first_node_of_its_network(h: Harness) -> None:
    h.machine.join(seeds=[])
    assert h.machine.state == "NO_SEEDS" and h.machine.bootstrap_state == "no-seeds"
    assert h.seeds.pings == [] and h.clock.getDelayedCalls() == [] and h.layer_joins == 0
    h.seeds.up[SEED_A] = b"a" * 20
    h.machine.join(seeds=[SEED_A])
    assert h.machine.state == "JOINED" and h.layer_joins == 1


def test_all_seeds_down_retries_with_backoff_doubling_up_to_the_max(h: Harness) -> None:
    h.machine.join(seeds=[SEED_A, SEED_B, SEED_A])
    assert h.machine.seeds == [SEED_A, SEED_B]
    assert h.machine.state == "JOINING" and h.machine.attempts == 1 and h.retry_in() is None
    delays = []
    for attempt in range(1, 7):
        h.advance(RPC_TIMEOUT)  # the pings time out
        assert h.machine.state == "RETRY_WAIT" and h.machine.bootstrap_state == "retrying"
        assert h.machine.attempts == attempt and h.machine.seeds_down == [SEED_A, SEED_B]
        delays.append(h.retry_in())
        assert len(h.clock.getDelayedCalls()) == 1  # only the retry deadline
        h.advance(delays[-1])
        assert h.machine.state == "JOINING" and h.machine.attempts == attempt + 1
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert h.seeds.pings == [SEED_A, SEED_B] * 7


def test_a_seed_answering_joins(h: Harness) -> None:
    h.machine.join(seeds=[SEED_A])
    h.advance(RPC_TIMEOUT)
    assert h.machine.state == "RETRY_WAIT"
    h.seeds.up[SEED_A] = b"a" * 20
    h.advance(h.retry_in())
    assert h.machine.state == "JOINED" and h.machine.bootstrap_state == "joined"
    assert h.machine.attempts == 2 and h.machine.seeds_down == [] and h.layer_joins == 1
    assert h.machine.seed_contacts == {SEED_A: Contact(b"a" * 20, *SEED_A)}
    assert h.retry_in() is None and h.clock.getDelayedCalls() == []  # all seeds up: no re-check
    assert [(t.event, t.to_state) for t in h.machine.history] == [
        ("join", "JOINING"),
        ("seeds-answered", "RETRY_WAIT"),
        ("retry", "JOINING"),
        ("seeds-answered", "JOINED"),
    ]


def test_seeds_down_at_join_are_rechecked_with_backoff_until_they_answer(h: Harness) -> None:
    h.seeds.up[SEED_A] = b"a" * 20
    h.machine.join(seeds=[SEED_A, SEED_B])
    h.advance(RPC_TIMEOUT)
    assert h.machine.state == "JOINED" and h.machine.seeds_down == [SEED_B] and h.layer_joins == 1
    delays = []
    for _ in range(5):
        delays.append(h.retry_in())
        h.advance(delays[-1])  # the re-check deadline: SEED_B is pinged again
        assert h.seeds.pings[-1] == SEED_B
        h.advance(RPC_TIMEOUT)
        assert h.machine.state == "JOINED" and h.machine.seeds_down == [SEED_B]
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]
    h.seeds.up[SEED_B] = b"b" * 20
    h.advance(h.retry_in())
    assert h.machine.state == "JOINED" and h.machine.seeds_down == [] and h.retry_in() is None
    assert SEED_B in h.machine.seed_contacts and h.clock.getDelayedCalls() == []
    assert h.machine.attempts == 1 and h.layer_joins == 1


def test_join_again_drops_the_answers_of_the_older_attempt(h: Harness) -> None:
    h.machine.join(seeds=[SEED_A])
    h.advance(RPC_TIMEOUT / 2)
    h.machine.join(seeds=[SEED_B])  # both down; SEED_A's timeout comes first, from the older attempt
    h.advance(RPC_TIMEOUT / 2)
    assert h.machine.state == "JOINING" and h.machine.seeds_down == []
    h.advance(RPC_TIMEOUT / 2)
    assert h.machine.state == "RETRY_WAIT" and h.machine.seeds_down == [SEED_B] and h.machine.attempts == 1
    h.seeds.up[SEED_A] = b"a" * 20
    h.machine.join(seeds=[SEED_A])  # a new join cancels the pending retry and starts over
    assert h.machine.state == "JOINED" and h.machine.attempts == 1 and h.layer_joins == 1
    assert h.clock.getDelayedCalls() == []


def put_in(h: Harness, where: str) -> None:
    """Drive the machine to ``where`` with seeds A (up only for JOINED) and B (always down)."""
    if where == "NO_SEEDS":
        h.machine.join(seeds=[])
    elif where == "JOINING":
        h.machine.join(seeds=[SEED_B])
    elif where == "RETRY_WAIT":
        h.machine.join(seeds=[SEED_B])
        h.advance(RPC_TIMEOUT)
    elif where == "JOINED":
        h.seeds.up[SEED_A] = b"a" * 20
        h.machine.join(seeds=[SEED_A, SEED_B])
        h.advance(RPC_TIMEOUT)
    assert h.machine.state == where


@pytest.mark.parametrize("where", ["NO_SEEDS", "JOINING", "RETRY_WAIT", "JOINED"])
def test_join_without_seeds_forgets_the_old_ones_and_waits_for_none(h: Harness, where: str) -> None:
    # Edges NO_SEEDS/JOINING/RETRY_WAIT/JOINED -> NO_SEEDS on join [!is_seed_given].
    put_in(h, where)
    pings = len(h.seeds.pings)
    h.machine.join(seeds=[])
    assert h.machine.state == "NO_SEEDS" and h.machine.bootstrap_state == "no-seeds"
    assert h.machine.seeds == [] and h.machine.attempts == 0 and h.machine.next_retry_at is None
    h.advance(3600)  # the pings and deadlines of the old seeds end in nothing
    assert h.machine.state == "NO_SEEDS" and len(h.seeds.pings) == pings
    assert h.clock.getDelayedCalls() == []


def test_join_of_a_joined_node_starts_over_with_the_new_seeds(h: Harness) -> None:
    # Edge JOINED -> JOINING on join [is_seed_given]: the pending re-check of SEED_B is dropped.
    put_in(h, "JOINED")
    assert h.retry_in() is not None
    h.machine.join(seeds=[SEED_B])
    assert h.machine.state == "JOINING" and h.machine.seeds == [SEED_B] and h.machine.attempts == 1
    assert h.seeds.pings[-1] == SEED_B and h.retry_in() is None
    h.advance(RPC_TIMEOUT)
    assert h.machine.state == "RETRY_WAIT" and h.machine.seeds_down == [SEED_B]


@pytest.mark.parametrize("where", ["IDLE", "NO_SEEDS", "JOINING", "RETRY_WAIT", "JOINED"])
def test_stop_ends_the_machine_and_leaves_no_timers(h: Harness, where: str) -> None:
    if where == "NO_SEEDS":
        h.machine.join(seeds=[])
    elif where == "JOINING":
        h.machine.join(seeds=[SEED_A])
    elif where == "RETRY_WAIT":
        h.machine.join(seeds=[SEED_A])
        h.advance(RPC_TIMEOUT)
    elif where == "JOINED":
        h.seeds.up[SEED_A] = b"a" * 20
        h.machine.join(seeds=[SEED_A, SEED_B])
        h.advance(RPC_TIMEOUT)
        assert h.retry_in() is not None  # a re-check of SEED_B is pending
    assert h.machine.state == where
    h.machine.stop()
    assert h.machine.state == "STOPPED" and h.machine.bootstrap_state == "stopped"
    assert h.machine.destroyed and h.registry.find("dht_bootstrap") == []
    assert h.machine.next_retry_at is None
    h.advance(3600)  # pings still in flight come back to a stopped machine: nothing happens
    assert h.clock.getDelayedCalls() == [] and h.machine.state == "STOPPED"
    attempts, pings = h.machine.attempts, len(h.seeds.pings)
    h.machine.stop()  # twice: harmless
    h.machine.join(seeds=[SEED_A])  # after stop: ignored
    assert h.machine.state == "STOPPED" and h.machine.attempts == attempts and len(h.seeds.pings) == pings


def test_the_node_reports_the_machine_and_destroys_it_on_stop() -> None:
    clock = task.Clock()
    registry = AutomatRegistry(strict=True)
    node = DhtNode(
        clock=clock, rng=random.Random(1), settings=DhtSettings(backoff_min=1.0, backoff_max=8.0), automats=registry
    )
    node.protocol.makeConnection(SimpleNamespace(write=lambda data, addr: None))
    assert [a.name for a in registry.list()] == ["dht_bootstrap"] and node.bootstrap_state == "idle"
    node.join([SEED_A])
    clock.advance(node.settings.rpc_timeout)
    bootstrap = node.status()["bootstrap"]
    assert bootstrap["state"] == "retrying" and bootstrap["attempts"] == 1 and node.bootstrap_attempts == 1
    assert bootstrap["seeds_down"] == ["10.0.0.1:14441"] and bootstrap["next_retry_in"] == 1.0
    assert registry.list()[0].to_json()["state"] == "RETRY_WAIT"
    node.stop()
    assert node.bootstrap_state == "stopped" and len(registry) == 0
    assert node.status()["bootstrap"]["next_retry_in"] is None
    assert clock.getDelayedCalls() == []


def test_a_node_without_a_registry_keeps_its_machine_to_itself() -> None:
    node = DhtNode(clock=task.Clock(), rng=random.Random(2))
    assert node.bootstrap.registry is None and node.bootstrap.index == 0
    node.stop()
    assert node.bootstrap.destroyed and node.bootstrap_state == "stopped"
