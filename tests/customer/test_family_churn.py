"""fire_hire, supplier_finder and the connectors together against 30 fake suppliers under churn.

A seeded random schedule takes suppliers offline and back, makes some refuse new requests and
some drop us; at every transition of fire_hire no more positions are empty than the ECC map can
lose, and once the churn stops the family ends full, connected and stable.
"""

from __future__ import annotations

import random

import pytest

from bitdust.automats.runtime import Automat
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
