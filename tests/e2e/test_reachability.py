"""End to end: nodes that just got their identities reach each other, without restarts.

The cases of issue 10, section 1: the README's ``--bare`` flow; a node that cached a peer's first
identity (no contacts) before the peer connected; a node whose identity appeared without joining
the network and is brought up with ``network_reconnect`` or ``service_start``; and fresh two-node
sandboxes pinged right after ``sandbox up`` returns. Each bound of 5 s is the issue's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from tests.e2e.helpers import api, ok, poll_until

pytestmark = pytest.mark.e2e

REACH_WITHIN = 5.0
FRESH_SANDBOXES = 20


def _nodes(sandbox: Sandbox) -> list[NodeRecord]:
    return [record for record in sandbox.load().nodes if record.role == "node"]


@pytest.fixture
def bare_sandbox(tmp_path: Path) -> Iterator[Any]:
    """``bare_sandbox(n)``: n bare nodes and two identity servers, brought down after the test."""
    started: list[Sandbox] = []

    def make(nodes: int) -> list[NodeRecord]:
        box = Sandbox(tmp_path / f"bare-{len(started)}")
        started.append(box)
        box.up(nodes, id_servers=2, bare=True)
        return _nodes(box)

    try:
        yield make
    finally:
        for box in started:
            if (box.directory / "sandbox.json").exists():
                box.down()


def _ping(node: NodeRecord, peer_global_id: str, timeout: float = 2.0) -> tuple[int, dict[str, Any]]:
    return api(node, "GET", "user/ping/v1", user_id=peer_global_id, timeout=timeout, retries=1)


def _ping_both_ways(a: NodeRecord, a_id: str, b: NodeRecord, b_id: str, started: float) -> float:
    """Ping until both directions answered; returns the seconds since ``started`` it took."""
    done: set[str] = set()
    last: dict[str, Any] = {}

    def both() -> bool:
        for name, node, peer in (("a->b", a, b_id), ("b->a", b, a_id)):
            if name in done:
                continue
            remaining = max(0.5, started + REACH_WITHIN - time.monotonic())
            status, envelope = _ping(node, peer, timeout=min(2.0, remaining))
            last[name] = (status, envelope.get("errors") or envelope.get("result", {}).get("contact_state"))
            if status == 200:
                done.add(name)
        return len(done) == 2

    left = started + REACH_WITHIN - time.monotonic()
    try:
        poll_until(both, deadline=max(0.0, left), interval=0.05, what="pings both ways")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answers: {last}") from None
    return time.monotonic() - started


def _state(node: NodeRecord, service: str) -> str:
    return ok(node, "GET", f"service/info/{service}/v1")["state"]


def test_readme_bare_flow_nodes_ping_each_other(bare_sandbox: Any) -> None:
    """README: ``identity_create username=alice join_network=1`` on one bare node, ``bob`` on the other."""
    one, two = bare_sandbox(2)
    alice = ok(one, "POST", "identity/create/v1", username="alice", join_network=True)
    bob = ok(two, "POST", "identity/create/v1", username="bob", join_network=True)
    created = time.monotonic()
    assert alice["contacts"] and bob["contacts"], "join_network answers once the contacts are published"
    took = _ping_both_ways(one, alice["global_id"], two, bob["global_id"], created)
    assert took < REACH_WITHIN
    for node, peer in ((one, bob), (two, alice)):
        assert ok(node, "GET", "user/status/v1", user_id=peer["global_id"])["contact_state"] == "CONNECTED"


def test_offline_identities_join_later_and_stale_caches_heal(bare_sandbox: Any) -> None:
    """Bob and carol create identities without joining: the gateway is ready (OFF, not NOT_INSTALLED).

    Alice pings bob while he is offline, so she caches his first identity (revision 0, no
    contacts). Bob then joins with ``network_reconnect``, carol with ``service_start
    service_gateway`` (which starts the enabled services depending on it): both reach alice and
    alice reaches both, without any restart.
    """
    one, two, three = bare_sandbox(3)
    alice = ok(one, "POST", "identity/create/v1", username="alice", join_network=True)
    bob = ok(two, "POST", "identity/create/v1", username="bob")
    carol = ok(three, "POST", "identity/create/v1", username="carol")
    for node in (two, three):
        assert _state(node, "service_gateway") == "OFF"  # re-checked when the identity appeared
        assert ok(node, "GET", "network/status/v1")["network_connector_state"] != "CONNECTED"

    status, envelope = _ping(one, bob["global_id"])
    assert status == 504 and "its contacts: none" in envelope["errors"][0], envelope
    cached = {row["global_id"]: row for row in ok(one, "GET", "identity/cache/list/v1")}
    assert cached[bob["global_id"]]["contacts"] == []

    reconnect = ok(two, "GET", "network/reconnect/v1")
    assert "service_gateway" in reconnect["started_services"]
    ok(two, "GET", "network/connected/v1", wait_timeout=20)
    took = _ping_both_ways(one, alice["global_id"], two, bob["global_id"], time.monotonic())
    assert took < REACH_WITHIN
    cached = {row["global_id"]: row for row in ok(one, "GET", "identity/cache/list/v1")}
    assert cached[bob["global_id"]]["revision"] >= 1 and cached[bob["global_id"]]["contacts"]

    started = ok(three, "POST", "service/start/service_gateway/v1")
    assert started["state"] == "ON"
    for service in ("service_tcp_transport", "service_p2p_hookups"):
        assert _state(three, service) == "ON"
    ok(three, "GET", "network/connected/v1", wait_timeout=20)
    took = _ping_both_ways(one, alice["global_id"], three, carol["global_id"], time.monotonic())
    assert took < REACH_WITHIN


def test_fresh_two_node_sandboxes_ping_each_other_right_after_up(tmp_path: Path) -> None:
    """20 fresh ``sandbox up --nodes 2`` in a row; each pair pings both ways within 5 s of ``up``."""
    timings: list[tuple[float, float, float]] = []
    began = time.monotonic()
    for number in range(FRESH_SANDBOXES):
        box = Sandbox(tmp_path / f"fresh-{number}")
        try:
            t_up = time.monotonic()
            box.up(2, id_servers=2)
            up_done = time.monotonic()
            one, two = _nodes(box)
            took = _ping_both_ways(one, one.extra["global_id"], two, two.extra["global_id"], up_done)
        finally:
            t_down = time.monotonic()
            if (box.directory / "sandbox.json").exists():
                box.down()
        timings.append((up_done - t_up, took, time.monotonic() - t_down))
    total = time.monotonic() - began
    report = ", ".join(f"up {u:.1f}/ping {p:.2f}/down {d:.1f}" for u, p, d in timings)
    print(f"\n{FRESH_SANDBOXES} fresh two-node sandboxes in {total:.1f} s: {report}")
    assert all(ping < REACH_WITHIN for _u, ping, _d in timings)
