"""The space accounting: no sequence of requests, writes and cancels passes donated or an allocation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitdust.errors import BitDustError, LimitReached, OutOfSpace
from bitdust.supplier.ledger import CustomerEntry, Ledger

CUSTOMERS = [f"http://127.0.0.1:8084/c{i}.xml" for i in range(4)]


def entry(idurl: str, allocated: int) -> CustomerEntry:
    return CustomerEntry(idurl=idurl, global_id=idurl, allocated=allocated, since=1.0)


def test_an_allocation_over_the_free_space_is_refused_with_the_figures() -> None:
    ledger = Ledger(donated=5000)
    ledger.allocate(entry(CUSTOMERS[0], 4000))
    with pytest.raises(OutOfSpace, match="not enough space: 1000 bytes free, 5000 needed"):
        ledger.allocate(entry(CUSTOMERS[1], 5000))
    assert list(ledger.entries) == [CUSTOMERS[0]]


def test_a_second_request_replaces_the_allocation_and_keeps_usage_and_since() -> None:
    ledger = Ledger(donated=5000)
    ledger.allocate(entry(CUSTOMERS[0], 4000))
    ledger.apply_write(CUSTOMERS[0], 0, 1500)
    renewed = CustomerEntry(idurl=CUSTOMERS[0], global_id="g", allocated=5000, since=9.0)
    assert ledger.allocate(renewed) is not None
    assert ledger.get(CUSTOMERS[0]).allocated == 5000 and ledger.get(CUSTOMERS[0]).used == 1500
    assert ledger.get(CUSTOMERS[0]).since == 1.0
    with pytest.raises(OutOfSpace, match="already stores 1500"):
        ledger.allocate(entry(CUSTOMERS[0], 1000))


def test_a_write_past_the_allocation_is_refused() -> None:
    ledger = Ledger(donated=5000)
    ledger.allocate(entry(CUSTOMERS[0], 100))
    with pytest.raises(LimitReached, match="over the 100 allocated"):
        ledger.apply_write(CUSTOMERS[0], 0, 101)
    ledger.apply_write(CUSTOMERS[0], 0, 100)
    ledger.apply_write(CUSTOMERS[0], 100, 60)  # replacing a file frees its old size first
    assert ledger.used == 60


def test_a_write_past_a_lowered_donated_total_is_refused() -> None:
    ledger = Ledger(donated=1000)
    ledger.allocate(entry(CUSTOMERS[0], 1000))
    ledger.apply_write(CUSTOMERS[0], 0, 500)
    ledger.donated = 600
    with pytest.raises(OutOfSpace, match="over the 600 donated"):
        ledger.apply_write(CUSTOMERS[0], 0, 200)


def test_idle_customers_are_those_not_heard_from_for_long_enough() -> None:
    ledger = Ledger(donated=1000)
    old, fresh = entry(CUSTOMERS[0], 10), entry(CUSTOMERS[1], 10)
    old.last_seen, fresh.last_seen = 100.0, 900.0
    ledger.allocate(old)
    ledger.allocate(fresh)
    assert [e.idurl for e in ledger.idle(now=1000.0, max_idle=500.0)] == [CUSTOMERS[0]]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.sampled_from(CUSTOMERS), st.integers(-10, 3000)),
        st.tuples(st.just("write"), st.sampled_from(CUSTOMERS), st.integers(0, 1500)),
        st.tuples(st.just("delete"), st.sampled_from(CUSTOMERS), st.integers(0, 1500)),
        st.tuples(st.just("release"), st.sampled_from(CUSTOMERS), st.just(0)),
        st.tuples(st.just("donate"), st.sampled_from(CUSTOMERS), st.integers(0, 5000)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_no_sequence_passes_donated_or_an_allocation(ops: list[tuple[str, str, int]]) -> None:
    ledger = Ledger(donated=4000)
    files: dict[str, list[int]] = {c: [] for c in CUSTOMERS}
    for op, customer, amount in ops:
        before = {k: (e.allocated, e.used) for k, e in ledger.entries.items()}
        try:
            if op == "allocate":
                ledger.allocate(entry(customer, amount))
            elif op == "write":
                ledger.apply_write(customer, 0, amount)
                files[customer].append(amount)
            elif op == "delete" and files[customer]:
                ledger.apply_delete(customer, files[customer].pop())
            elif op == "release":
                ledger.release(customer)
                files[customer] = []
            elif op == "donate":
                ledger.donated = amount
        except BitDustError:
            # a refusal changes nothing
            assert {k: (e.allocated, e.used) for k, e in ledger.entries.items()} == before
        for held in ledger.entries.values():
            assert held.used <= held.allocated
        if op != "donate":
            assert ledger.used <= max(ledger.donated, sum(u for _a, u in before.values()))
        if all(o != "donate" for o, _c, _a in ops):
            assert ledger.allocated <= ledger.donated and ledger.used <= ledger.donated
        assert ledger.used == sum(sum(files[c]) for c in ledger.entries)
