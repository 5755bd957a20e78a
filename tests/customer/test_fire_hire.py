"""The fire_hire machine (automats/fire_hire.md), every edge, with a real finder and real connectors
over recording fakes of the network (tests/customer/network.py), on a task.Clock."""

from __future__ import annotations

import pytest
from twisted.internet import defer

from bitdust.customer.collaborators import Family
from bitdust.customer.family_plan import Seat, choose_fired
from bitdust.customer.fire_hire import FireHire
from bitdust.errors import InvalidInput, Unavailable
from tests.customer.fakes import CUSTOMER, supplier
from tests.customer.network import Network


def hired(
    net: Network, number: int = 4, *, candidates: tuple[str, ...] = (), offline_seconds: float = 60.0
) -> tuple[Network, FireHire]:
    fh = net.fire_hire(number, candidates=candidates, offline_seconds=offline_seconds)
    fh.start()
    assert fh.state == "READY" and None not in fh.positions
    return net, fh


def test_a_new_customer_hires_n_suppliers_and_publishes_each_change() -> None:
    net = Network(6)
    fh = net.fire_hire(4)
    fh.start()
    assert fh.state == "READY"
    assert len(set(fh.positions)) == 4 and CUSTOMER not in fh.positions
    assert all(fh.connectors[idurl].state == "CONNECTED" for idurl in fh.positions if idurl)
    # revision 1 is the four empty positions: no record names nobody, so the store first sees revision 2
    assert [family.revision for family in net.store.saved] == [2, 3, 4, 5]
    assert net.store.saved[-1] == Family("ecc/4x4", tuple(idurl or "" for idurl in fh.positions), 5)
    assert net.events.ids().count("my-suppliers-all-hired") == 1
    assert net.events.ids().count("supplier-connected") == 4
    request = net.requester.requests[0][1]
    assert request.ecc_map == "ecc/4x4" and request.position == 0 and request.needed_bytes == 2000
    assert request.customer_id == CUSTOMER


def test_configured_candidates_are_hired_first() -> None:
    net = Network(6)
    fh = net.fire_hire(2, candidates=(supplier(5), supplier(4)))
    fh.start()
    assert fh.positions == [supplier(5), supplier(4)]


def test_a_restarted_customer_keeps_its_family_without_hiring() -> None:
    net = Network(6)
    for idurl in (supplier(2), supplier(3)):
        net.behaviour[idurl] = "hang"
    family = Family("ecc/2x2", (supplier(2), supplier(3)), 7)
    fh = net.fire_hire(2, family=family)
    fh.start()
    assert fh.state == "READY" and fh.positions == [supplier(2), supplier(3)]
    assert net.events.ids() == ["my-suppliers-yet-not-hired"]
    for _idurl, d in net.hung:
        d.callback(2000)
    assert fh.state == "READY" and net.events.ids()[-1] == "my-suppliers-all-hired"
    assert net.store.saved == [] and net.dht.calls == [] and fh.revision == 7


def test_an_offline_supplier_is_replaced_at_its_position_after_offline_seconds() -> None:
    net, fh = hired(Network(6), offline_seconds=60.0)
    before = list(fh.positions)
    revision = fh.revision
    net.watcher.set_online(before[1], False)
    assert fh.state == "READY" and fh.positions == before
    assert net.events.ids()[-2:] == ["supplier-disconnected", "my-suppliers-yet-not-hired"]
    net.clock.advance(59)
    assert fh.positions == before
    net.clock.advance(1)
    assert fh.positions[1] not in (None, before[1])
    assert [fh.positions[p] for p in (0, 2, 3)] == [before[p] for p in (0, 2, 3)]
    assert fh.revision == revision + 2  # fired, then hired
    assert net.events.ids()[-1] == "my-suppliers-all-hired"
    assert net.refused.reason(before[1]) == "offline for 60 s"


def test_never_more_fired_at_once_than_the_ecc_map_can_lose() -> None:
    net, fh = hired(Network(4), offline_seconds=60.0)
    first = list(fh.positions)
    for idurl in first:
        net.watcher.set_online(idurl, False)
    net.clock.advance(60)
    # ecc/4x4 rebuilds from 2: two fired, nobody online to hire, the other two kept for now
    assert fh.state == "READY" and fh.positions.count(None) == 2
    assert "no supplier found" in (fh.problem or "")
    newcomers = [supplier(n) for n in range(10, 14)]
    for idurl in newcomers:
        net.suppliers.append(idurl)
        net.watcher.add(idurl)
    net.clock.advance(30)  # the next search
    assert None not in fh.positions and set(fh.positions) == set(newcomers)


def test_a_refusing_candidate_is_remembered_and_someone_else_hired() -> None:
    net = Network(4)
    net.behaviour[supplier(3)] = "refuse"
    fh = net.fire_hire(2, candidates=(supplier(3),))
    fh.start()
    assert supplier(3) not in fh.positions and None not in fh.positions
    assert "not enough space" in (net.refused.reason(supplier(3)) or "")


def test_a_candidate_that_goes_offline_while_asked_is_not_hired() -> None:
    net = Network(4)
    net.behaviour[supplier(0)] = "hang"
    fh = net.fire_hire(2, candidates=(supplier(0),))
    fh.start()
    assert fh.state == "CONNECT"
    net.watcher.set_online(supplier(0), False)
    assert supplier(0) not in fh.positions and fh.state == "READY" and None not in fh.positions


def test_a_supplier_that_rejects_us_is_replaced() -> None:
    net, fh = hired(Network(6), 2)
    rejecting = fh.positions[0]
    fh.connectors[rejecting].rejected(reason="customer rejected")
    assert fh.positions[0] not in (None, rejecting)
    assert net.refused.reason(rejecting) == "refused or rejected us"


def test_supplier_change_with_and_without_a_new_supplier() -> None:
    net, fh = hired(Network(8), 4)
    before = list(fh.positions)
    fh.supplier_change(1)
    assert fh.positions[1] not in (None, before[1]) and fh.positions[0] == before[0]
    newcomer = next(idurl for idurl in net.suppliers if idurl not in fh.positions)
    fh.supplier_change(2, newcomer)
    assert fh.positions[2] == newcomer
    assert net.requester.cancels == [before[1], before[2]]


def test_supplier_change_while_busy_waits_for_the_next_decision() -> None:
    net = Network(6)
    net.behaviour[supplier(5)] = "hang"
    fh = net.fire_hire(2, candidates=(supplier(0), supplier(5)))
    fh.start()
    assert fh.state == "CONNECT" and fh.positions == [supplier(0), None]
    fh.supplier_change(0, supplier(3))
    net.hung[0][1].callback(100)
    net.clock.advance(0)
    assert fh.positions == [supplier(3), supplier(5)]


@pytest.mark.parametrize(
    ("position", "new_id", "message"),
    [
        (-1, None, "position must be 0..3"),
        (4, None, "position must be 0..3"),
        (True, None, "position must be 0..3"),
        (1, CUSTOMER, "is ourselves"),
        (1, "FAMILY", "is already in the family"),
        (1, "http://127.0.0.1:8084/stranger.xml", "is unknown"),
        (1, supplier(7), "is offline"),
    ],
)
def test_supplier_change_refusals_change_nothing(position: int, new_id: str | None, message: str) -> None:
    net, fh = hired(Network(8), 4, candidates=tuple(supplier(n) for n in range(4)))
    net.watcher.set_online(supplier(7), False)
    if new_id == "FAMILY":
        new_id = fh.positions[0]
    before, saved, events = list(fh.positions), len(net.store.saved), len(net.events.sent)
    with pytest.raises(InvalidInput, match=message):
        fh.supplier_change(position, new_id)
    assert fh.positions == before and len(net.store.saved) == saved and len(net.events.sent) == events


def test_supplier_change_of_a_position_being_hired_needs_a_new_supplier() -> None:
    net = Network(2)
    net.watcher.set_online(supplier(1), False)
    fh = net.fire_hire(2)
    fh.start()
    assert fh.positions.count(None) == 1
    with pytest.raises(InvalidInput, match="being hired"):
        fh.supplier_change(fh.positions.index(None))
    net.suppliers.append(supplier(9))
    net.watcher.add(supplier(9))
    fh.supplier_change(fh.positions.index(None), supplier(9))
    assert supplier(9) in fh.positions


def test_growing_and_shrinking_the_family() -> None:
    net, fh = hired(Network(10), 4)
    four = list(fh.positions)
    net.number = 7
    fh.restart()
    assert len(fh.positions) == 7 and fh.positions[:4] == four and None not in fh.positions
    assert net.store.saved[-1].ecc_map == "ecc/7x7"
    seven = list(fh.positions)
    net.number = 2
    fh.restart()
    assert fh.positions == seven[:2]
    assert net.store.saved[-1] == Family("ecc/2x2", tuple(seven[:2]), fh.revision)
    assert sorted(net.requester.cancels) == sorted(seven[2:])
    assert len(net.registry.find("supplier_connector")) == 2


def test_an_invalid_suppliers_number_keeps_the_family_size() -> None:
    net, fh = hired(Network(6), 2)
    net.number = 3
    fh.restart()
    assert len(fh.positions) == 2


def test_stop_before_start() -> None:
    net = Network(2)
    fh = net.fire_hire(2)
    fh.stop()
    assert fh.state == "CLOSED" and net.finder.destroyed


def test_stop_when_ready_closes_every_connector_and_the_family_stays_hired() -> None:
    # Stopping is not firing: no CancelService, so a restarted customer finds its allocations.
    net, fh = hired(Network(4), 2)
    fh.stop()
    assert fh.state == "CLOSED" and net.requester.cancels == []
    assert net.registry.find("supplier_connector") == [] and net.finder.destroyed


def test_stop_while_searching() -> None:
    net = Network(2)
    pending: defer.Deferred[list[object]] = defer.Deferred()
    net.dht.random_nodes = lambda layer, count, attempts=3: pending  # type: ignore[method-assign,assignment,return-value]
    fh = net.fire_hire(2)
    fh.start()
    assert fh.state == "HIRE"
    fh.stop()
    assert fh.state == "CLOSED" and net.finder.state == "CLOSED"


def test_stop_while_asking_a_candidate() -> None:
    net = Network(2)
    net.behaviour[supplier(0)] = "hang"
    fh = net.fire_hire(2, candidates=(supplier(0),))
    fh.start()
    assert fh.state == "CONNECT"
    fh.stop()
    assert fh.state == "CLOSED" and net.requester.cancels == [supplier(0)]
    net.hung[0][1].callback(100)
    assert net.registry.find("supplier_connector") == []


def test_the_plan_counts_empty_positions_against_the_tolerance() -> None:
    gone = Seat("a", "DISCONNECTED", 100.0)
    assert choose_fired([gone, gone, gone, gone], offline_seconds=60, replace=(), tolerated=2) == [
        (0, "offline for 100 s"),
        (1, "offline for 100 s"),
    ]
    assert choose_fired([None, gone, gone, gone], offline_seconds=60, replace=(), tolerated=2) == [
        (1, "offline for 100 s")
    ]
    ok = Seat("b", "CONNECTED", None)
    assert choose_fired([ok, ok], offline_seconds=60, replace={1}, tolerated=1) == [(1, "replaced by the user")]


def test_supplier_change_before_start_is_refused() -> None:
    net = Network(2)
    fh = net.fire_hire(2)
    with pytest.raises(InvalidInput, match="no positions yet"):
        fh.supplier_change(0)


def test_a_store_that_fails_leaves_the_family_standing() -> None:
    net = Network(4)

    def broken(family: Family) -> defer.Deferred[None]:
        raise OSError("disk full")

    net.store.save = broken  # type: ignore[method-assign]
    fh = net.fire_hire(2)
    fh.start()
    assert fh.state == "READY" and None not in fh.positions and fh.revision == 3


def test_supplier_change_after_stop_is_unavailable() -> None:
    net, fh = hired(Network(4), 2)
    fh.stop()
    with pytest.raises(Unavailable):
        fh.supplier_change(0)
