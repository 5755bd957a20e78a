"""fire_hire, supplier_finder and the connectors together against 30 fake suppliers under churn.

A seeded random schedule takes suppliers offline and back, makes some refuse new requests and
some drop us; at every transition of fire_hire no more positions are empty than the ECC map can
lose, and once the churn stops the family ends full, connected and stable.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.automats.runtime import Automat
from bitdust.errors import InvalidInput
from bitdust.raid.eccmap import eccmap
from tests.customer.network import Network


@pytest.mark.parametrize("number", [4, 7])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_family_survives_churn_and_ends_full_and_stable(number: int, seed: int) -> None:
    net = Network(30, seed=seed)
    schedule = random.Random(seed)
    fh = net.fire_hire(number, offline_seconds=60.0)
    tolerated = eccmap(f"ecc/{number}x{number}").tolerated
    worst: list[int] = []

    def check(_automat: Automat, _old: str, _new: str, _event: str) -> None:
        worst.append(fh.positions.count(None))

    fh.add_state_changed_callback(check)
    fh.start()
    assert None not in fh.positions
    worst.clear()  # hiring the first family fills empty positions; from here on only firing empties one
    for _step in range(300):
        net.clock.advance(schedule.uniform(0.5, 15.0))
        roll = schedule.random()
        idurl = schedule.choice(net.suppliers)
        if roll < 0.35:
            net.watcher.set_online(idurl, False)
        elif roll < 0.7:
            net.watcher.set_online(idurl, True)
        elif roll < 0.85:
            net.behaviour[idurl] = schedule.choice(["accept", "refuse"])
        else:
            member = schedule.choice([p for p in fh.positions if p is not None] or [idurl])
            connector = fh.connectors.get(member)
            if connector is not None and connector.state == "CONNECTED":
                connector.rejected(reason="dropped by the churn")
    assert max(worst) <= tolerated
    assert max(worst) >= 1 and fh.revision > number + 5  # the churn did make fire_hire replace suppliers
    # The churn stops: everyone back and willing.
    for idurl in net.suppliers:
        net.watcher.set_online(idurl, True)
    net.behaviour.clear()
    net.clock.advance(300)
    for _ in range(40):
        net.clock.advance(30)
    assert fh.state == "READY" and None not in fh.positions and len(set(fh.positions)) == number
    assert all(fh.connectors[idurl].state == "CONNECTED" for idurl in fh.positions if idurl)
    assert net.events.ids()[-1] in ("my-suppliers-all-hired", "supplier-connected")
    assert net.store.saved[-1] == fh.family()
    revision, family = fh.revision, list(fh.positions)
    net.clock.advance(3600)
    assert fh.revision == revision and fh.positions == family
    assert max(worst) <= tolerated
    assert len(net.registry.find("supplier_connector")) == number


CHURN_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["offline", "online", "refuse", "accept", "reject", "change", "change-to", "resize"]),
        st.integers(min_value=0, max_value=11),
        st.floats(min_value=0.0, max_value=90.0),
    ),
    max_size=30,
)


@given(CHURN_STEPS)
def test_any_churn_with_user_changes_and_resizes_ends_in_a_full_family(steps: list[tuple[str, int, float]]) -> None:
    net = Network(12)
    fh = net.fire_hire(4, offline_seconds=60.0)
    fh.start()
    for action, index, seconds in steps:
        idurl = net.suppliers[index]
        if action in ("offline", "online"):
            net.watcher.set_online(idurl, action == "online")
        elif action in ("refuse", "accept"):
            net.behaviour[idurl] = action
        elif action == "reject":
            connector = fh.connectors.get(fh.positions[index % len(fh.positions)] or "")
            if connector is not None and connector.state == "CONNECTED":
                connector.rejected(reason="dropped")
        elif action.startswith("change"):
            try:
                fh.supplier_change(index % len(fh.positions), idurl if action == "change-to" else None)
            except InvalidInput:
                pass
        else:
            net.number = (2, 4, 7)[index % 3]
            fh.reconsider()
        tolerated = eccmap(f"ecc/{len(fh.positions)}x{len(fh.positions)}").tolerated
        assert len(fh.fired_now) <= tolerated
        net.clock.advance(seconds)
    for idurl in net.suppliers:
        net.watcher.set_online(idurl, True)
    net.behaviour.clear()
    for _ in range(30):
        net.clock.advance(30)
    assert fh.state == "READY" and len(fh.positions) == net.number and None not in fh.positions
    assert all(fh.connectors[idurl].state == "CONNECTED" for idurl in fh.positions if idurl)
    assert net.store.saved[-1] == fh.family()
