"""SupplierSpace: allocations, the customers' folders, writes checked on every write, the record on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet import defer

from bitdust.errors import BitDustError, InternalError, InvalidInput, LimitReached, NotFound, OutOfSpace
from bitdust.supplier import customers_store
from bitdust.supplier.requests import SupplyRequest
from bitdust.supplier.space import SupplierSpace
from bitdust.userid.idurl import IdUrl

ALICE = IdUrl.parse("http://127.0.0.1:8084/alice.xml")
BOB = IdUrl.parse("http://127.0.0.1:8084/bob.xml")


def inline(fn: Callable[..., Any], *args: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args)


def result(d: defer.Deferred[Any]) -> Any:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "inline run_blocking fires at once"
    if hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


def request(customer: IdUrl, needed: int) -> SupplyRequest:
    return SupplyRequest(customer=customer, needed_bytes=needed, ecc_map="ecc/4x4", position=1, family=None)


def make_space(tmp_path: Path, donated: int = 10_000) -> SupplierSpace:
    space = SupplierSpace(
        root=tmp_path / "customers",
        record=tmp_path / "metadata" / "customers.json",
        donated=donated,
        run_blocking=inline,
        clock=lambda: 1000.0,
    )
    result(space.open())
    return space


def test_data_lives_in_the_customers_folder_and_every_write_is_checked(tmp_path: Path) -> None:
    space = make_space(tmp_path)
    result(space.allocate(request(ALICE, 100)))
    assert result(space.write(ALICE.url, "0/1/data", b"x" * 60)) == 60
    assert (tmp_path / "customers" / ALICE.global_id / "0" / "1" / "data").read_bytes() == b"x" * 60
    with pytest.raises(LimitReached):
        result(space.write(ALICE.url, "0/1/more", b"y" * 41))
    assert not (tmp_path / "customers" / ALICE.global_id / "0" / "1" / "more").exists()
    assert result(space.write(ALICE.url, "0/1/data", b"z" * 100)) == 100  # a replaced file frees its old size
    assert result(space.list(ALICE.url)) == [{"path": "0/1/data", "size": 100}]
    assert result(space.read(ALICE.url, "0/1/data")) == b"z" * 100
    assert result(space.delete(ALICE.url, "0/1/data")) == 100
    assert space.get(ALICE.url).used == 0


def test_the_donated_total_is_checked_on_every_write(tmp_path: Path) -> None:
    space = make_space(tmp_path, donated=200)
    result(space.allocate(request(ALICE, 150)))
    result(space.write(ALICE.url, "a", b"x" * 120))
    space.set_donated(100)
    with pytest.raises(OutOfSpace):
        result(space.write(ALICE.url, "b", b"x"))
    with pytest.raises(OutOfSpace, match="not enough space"):
        result(space.allocate(request(BOB, 10)))


@pytest.mark.parametrize("path", ["../bob@127.0.0.1_8084/x", "/etc/passwd", "a/../../x", "a//b", "./a", "", "a\\b"])
def test_paths_that_leave_the_customers_folder_are_refused(tmp_path: Path, path: str) -> None:
    space = make_space(tmp_path)
    result(space.allocate(request(ALICE, 100)))
    with pytest.raises(InvalidInput):
        result(space.write(ALICE.url, path, b"x"))
    assert space.get(ALICE.url).used == 0


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    space = make_space(tmp_path)
    result(space.allocate(request(ALICE, 100)))
    result(space.allocate(request(BOB, 100)))
    result(space.write(BOB.url, "secret", b"bob's"))
    folder = tmp_path / "customers" / ALICE.global_id
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(tmp_path / "customers" / BOB.global_id, folder / "link")
    with pytest.raises(InvalidInput):
        result(space.read(ALICE.url, "link/secret"))
    with pytest.raises(InvalidInput):
        result(space.write(ALICE.url, "link/secret", b"x"))


def test_a_stranger_has_no_folder(tmp_path: Path) -> None:
    space = make_space(tmp_path)
    with pytest.raises(NotFound):
        result(space.write(BOB.url, "a", b"x"))
    with pytest.raises(NotFound):
        result(space.release(BOB.url))


def test_release_removes_the_data_and_the_record_survives_a_reopen(tmp_path: Path) -> None:
    space = make_space(tmp_path)
    result(space.allocate(request(ALICE, 100)))
    result(space.allocate(request(BOB, 200)))
    result(space.write(ALICE.url, "a", b"x" * 10))
    result(space.write(BOB.url, "b", b"y" * 20))
    result(space.save())
    result(space.release(ALICE.url))
    assert not (tmp_path / "customers" / ALICE.global_id).exists()
    again = make_space(tmp_path)
    assert [e.idurl for e in again.customers()] == [BOB.url]
    assert again.get(BOB.url).allocated == 200 and again.get(BOB.url).used == 20


def test_used_is_recounted_from_the_disk_after_a_crash_between_a_write_and_the_save(tmp_path: Path) -> None:
    space = make_space(tmp_path)
    result(space.allocate(request(ALICE, 100)))
    result(space.write(ALICE.url, "a", b"x" * 70))  # the record still says used 0: not saved since
    assert json.loads((tmp_path / "metadata" / "customers.json").read_text())["customers"][0]["used"] == 0
    assert make_space(tmp_path).get(ALICE.url).used == 70


def test_an_unreadable_record_is_an_error_not_an_empty_start(tmp_path: Path) -> None:
    record = tmp_path / "metadata" / "customers.json"
    record.parent.mkdir(parents=True)
    record.write_bytes(b'{"format": 1, "customers": [{"idurl"')
    with pytest.raises(InternalError, match="unreadable"):
        customers_store.load(record)


CHILD = """
import sys
from pathlib import Path
from bitdust.supplier import customers_store
from bitdust.supplier.ledger import CustomerEntry

path = Path(sys.argv[1])
n = 0
while True:
    n += 1
    entries = {
        f"http://127.0.0.1:8084/c{i}.xml": CustomerEntry(
            idurl=f"http://127.0.0.1:8084/c{i}.xml", global_id=f"c{i}@127.0.0.1_8084", allocated=n, since=float(n)
        )
        for i in range(200)
    }
    customers_store.save(path, entries)
"""


def test_the_record_survives_sigkill_in_the_middle_of_writes(tmp_path: Path) -> None:
    """A process saving the record in a loop is killed; what is on disk is one whole save."""
    record = tmp_path / "customers.json"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(record)])
    try:
        deadline = time.monotonic() + 60
        while not (
            record.exists() and customers_store.load(record)[next(iter(customers_store.load(record)))].allocated > 20
        ):
            assert time.monotonic() < deadline, "the child never saved 20 times"
            assert child.poll() is None, "the child died"
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    entries = customers_store.load(record)
    assert len(entries) == 200
    assert len({e.allocated for e in entries.values()}) == 1, "every entry comes from the same save"


space_ops = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.sampled_from([ALICE, BOB]), st.integers(1, 400), st.just("")),
        st.tuples(st.just("write"), st.sampled_from([ALICE, BOB]), st.integers(0, 250), st.sampled_from(["a", "b/c"])),
        st.tuples(st.just("delete"), st.sampled_from([ALICE, BOB]), st.just(0), st.sampled_from(["a", "b/c"])),
        st.tuples(st.just("release"), st.sampled_from([ALICE, BOB]), st.just(0), st.just("")),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(space_ops)
def test_no_sequence_of_requests_writes_and_cancels_passes_a_limit_on_disk(
    ops: list[tuple[str, IdUrl, int, str]],
) -> None:
    donated = 500
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        space = make_space(home, donated=donated)
        for op, customer, amount, path in ops:
            try:
                if op == "allocate":
                    result(space.allocate(request(customer, amount)))
                elif op == "write":
                    result(space.write(customer.url, path, b"x" * amount))
                elif op == "delete":
                    result(space.delete(customer.url, path))
                else:
                    result(space.release(customer.url))
            except BitDustError:
                pass
            on_disk = {c.url: customers_store.measure(home / "customers" / c.global_id) for c in (ALICE, BOB)}
            assert sum(on_disk.values()) <= donated
            for entry in space.customers():
                assert on_disk[entry.idurl] == entry.used <= entry.allocated
            for c in (ALICE, BOB):
                if not space.is_customer(c.url):
                    assert on_disk[c.url] == 0, "a customer that left has no file left"
            assert sum(e.allocated for e in space.customers()) <= donated
        reopened = make_space(home, donated=donated)
        assert {e.idurl: e.used for e in reopened.customers()} == {e.idurl: e.used for e in space.customers()}
