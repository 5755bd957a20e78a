from __future__ import annotations

from bitdust.dht.messages import Contact
from bitdust.dht.node_id import distance, from_int
from bitdust.dht.routing import RoutingTable

OWN = from_int(0)


def contact(number: int, port: int | None = None) -> Contact:
    """Node ``number`` on a host of its own (one host may hold only a few entries)."""
    return Contact(from_int(number), f"10.1.{number // 256 % 256}.{number % 256}", port or 1000 + number % 60000)


def test_contacts_go_to_their_bucket_and_closest_sorts_by_distance() -> None:
    table = RoutingTable(OWN, k=8)
    for number in (1, 2, 3, 200, 5000):
        assert table.add(contact(number), now=0) is None
    assert len(table) == 5
    target = from_int(201)
    assert [c.node_id for c in table.closest(target, 3)] == sorted(
        [from_int(n) for n in (1, 2, 3, 200, 5000)], key=lambda i: distance(i, target)
    )[:3]
    assert table.bucket_count() == 5 - 1  # 2 and 3 share bucket 1


def test_a_full_bucket_keeps_the_old_contacts_and_asks_to_ping_the_oldest() -> None:
    table = RoutingTable(OWN, k=2)
    first, second, newcomer = contact(0x80), contact(0x81), contact(0x82)
    table.add(first, 0)
    table.add(second, 0)
    assert table.add(newcomer, 0) == first
    assert newcomer.node_id not in table
    table.add(first, 1)  # the oldest answered: it moves to the end
    assert table.add(newcomer, 1) == second
    assert table.remove(second.node_id)  # the ping failed: the newcomer takes its place
    assert newcomer.node_id in table and second.node_id not in table


def test_a_known_id_keeps_its_first_address() -> None:
    table = RoutingTable(OWN, k=8)
    table.add(Contact(from_int(9), "10.0.0.1", 1), 0)
    table.add(Contact(from_int(9), "10.6.6.6", 1), 0)
    assert table.get(from_int(9)).host == "10.0.0.1"  # type: ignore[union-attr]


def test_one_address_holds_one_entry() -> None:
    table = RoutingTable(OWN, k=8)
    for number in range(1, 50):
        table.add(Contact(from_int(number), "10.6.6.6", 7), 0)
    assert len(table) == 1
    assert table.contacts()[0].node_id == from_int(49)


def test_own_id_is_never_added_and_stale_buckets_are_reported() -> None:
    table = RoutingTable(OWN, k=8)
    assert table.add(Contact(OWN, "10.0.0.1", 1), 0) is None
    assert len(table) == 0
    table.add(contact(5), 0)
    assert table.stale_buckets(10, 60) == []
    assert table.stale_buckets(100, 60) == [2]
    table.mark_refreshed(2, 100)
    assert table.stale_buckets(120, 60) == []
