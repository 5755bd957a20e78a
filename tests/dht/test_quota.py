"""The eviction order of a full store and the per-sender quota (bitdust.dht.quota, DhtStore.admit)."""

from __future__ import annotations

from bitdust.dht.quota import ANONYMOUS, SIGNED, Ledger, record_rank
from bitdust.dht.store import DhtStore, StoredValue


def item(key: str, sender: str, record_type: str = "skip_validation", original: bool = False) -> StoredValue:
    return StoredValue(
        layer=0,
        key=key,
        value=b"{}",
        record_type=record_type,
        stored_at=0.0,
        expires_at=100.0,
        publisher=b"p" * 20,
        original=original,
        sender=sender,
    )


def test_signed_types_rank_above_anonymous_ones() -> None:
    assert record_rank("skip_validation") == ANONYMOUS
    assert record_rank("nickname") == record_rank("suppliers") == record_rank("identity") == SIGNED
    assert record_rank("no-such-type") == ANONYMOUS


def test_the_heaviest_senders_oldest_anonymous_value_goes_first() -> None:
    ledger = Ledger()
    for number in range(3):
        ledger.charge((0, f"heavy-{number}"), ANONYMOUS, "10.0.0.1")
    ledger.charge((0, "light-0"), ANONYMOUS, "10.0.0.2")
    ledger.charge((0, "signed-0"), SIGNED, "10.0.0.3")
    assert ledger.victim(ANONYMOUS, "10.0.0.9") == (0, "heavy-0")
    assert ledger.victim(SIGNED, "10.0.0.9") == (0, "heavy-0")
    # the heavy sender itself, or one nearly as heavy, pushes out nothing of its own rank
    assert ledger.victim(ANONYMOUS, "10.0.0.1") is None
    ledger.charge((0, "light-1"), ANONYMOUS, "10.0.0.2")
    assert ledger.victim(ANONYMOUS, "10.0.0.2") is None
    ledger.release((0, "heavy-0"))
    assert ledger.total("10.0.0.1") == 2 and ledger.victim(ANONYMOUS, "10.0.0.9") in {(0, "heavy-1"), (0, "light-0")}


def test_signed_records_go_only_for_signed_ones() -> None:
    ledger = Ledger()
    for number in range(3):
        ledger.charge((0, f"s-{number}"), SIGNED, "10.0.0.1")
    assert ledger.victim(ANONYMOUS, "10.0.0.9") is None
    assert ledger.victim(SIGNED, "10.0.0.9") == (0, "s-0")


def test_admit_keeps_the_limits_and_our_own_values_are_never_pushed_out() -> None:
    store = DhtStore(max_items=3, max_per_sender=2)
    store.put(item("mine", "", original=True))
    assert store.admit(item("a", "10.0.0.1")) is None
    assert store.admit(item("b", "10.0.0.1")) is None
    assert store.admit(item("c", "10.0.0.1"))[0] == "store-quota"
    assert store.admit(item("a", "10.0.0.1")) is None  # replacing its own value is no new one (a is newest now)
    assert store.admit(item("d", "10.0.0.2")) is None  # full: the heavier sender's oldest goes
    assert {i.key for i in store.items()} == {"mine", "a", "d"} and store.evicted == 1
    assert store.admit(item("e", "10.0.0.2"))[0] == "store-full"  # 1 against 1: nobody is heavier
    store.delete(0, "a")
    assert store.sender_count("10.0.0.1") == 0 and store.sender_count("10.0.0.2") == 1
