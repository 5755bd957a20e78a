"""Issue 13's "must show" points 1-7 on real engine processes, through the sandbox, as a user would.

Point 8 (the customer SIGKILLed and started keeps its family) is not here yet: on real processes
the restarted customer's saved family can be a revision behind the record it had already
published, and the DHT then refuses every newer save of it (issue 13 stays open for that).

One sandbox (an identity server, a DHT seed, ten suppliers, node-1 the customer of a family of 4)
is shared by the points, in an order where each leaves the network usable. Point 6 runs right
after point 1, while every supplier is still a candidate: a supplier fired for being offline, or
replaced at the user's request, and one that refused, are not offered again for ten minutes
(the customer's refused memory), so each later point uses up candidates (point 2's victim stays
down and is point 3's offline one, point 4's rejecter refuses for good, point 5's small one gets
its donation back). Every wait polls with a deadline.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bitdust.main.process.paths import HomePaths
from bitdust.sandbox.family import MB, plan_family
from bitdust.sandbox.launcher import engine_pids
from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from tests.e2e.helpers import api, ok, poll_until

pytestmark = pytest.mark.e2e

SUPPLIERS = 10
#: A family of 4 (ecc/4x4, 2 pieces needed) asks each supplier for 80 MB: more than the 64 MB minimum
#: donation of point 5's small one; a family of 2 asks 160 MB, within the sandbox's 256 MB.
NEEDED_SPACE = 160 * MB
WAIT = 120.0
OFFLINE_SECONDS = 3


class Family:
    """The shared sandbox and the revisions of the customer's DHT record seen so far (point 7)."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.revisions: list[int] = []
        self.rejecter: str | None = None  # point 4's supplier, refusing the customer from then on

    def node(self, name: str) -> NodeRecord:
        return self.box.load().node(name)

    @property
    def customer(self) -> NodeRecord:
        return self.node("node-1")

    def suppliers(self) -> list[NodeRecord]:
        return [r for r in self.box.load().nodes if r.role == "supplier"]

    def by_idurl(self, idurl: str) -> NodeRecord:
        return next(r for r in self.suppliers() if r.extra["idurl"] == idurl)

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = ok(self.customer, "GET", "supplier/list/v1")
        return rows

    def connected(self, number: int) -> list[str] | None:
        """The family by position once ``number`` positions are all CONNECTED, else None."""
        rows = self.rows()
        if len(rows) == number and all(row["connected"] for row in rows):
            assert [row["position"] for row in rows] == list(range(number))
            return [row["idurl"] for row in rows]
        return None

    def record(self) -> dict[str, Any] | None:
        """The customer's record as the DHT answers it; every answer's revision never goes down."""
        status, envelope = api(self.customer, "GET", "supplier/list/dht/v1")
        if status != 200:
            return None
        found: dict[str, Any] = envelope["result"]
        if self.revisions:
            assert found["revision"] >= self.revisions[-1], (found, self.revisions)
        self.revisions.append(found["revision"])
        return found

    def record_of(self, family: list[str], above: int = -1) -> dict[str, Any]:
        """Wait for a record naming exactly ``family`` (suppliers_list's order) with a revision over ``above``."""

        def matching() -> dict[str, Any] | None:
            found = self.record()
            return found if found and found["suppliers"] == family and found["revision"] > above else None

        return poll_until(matching, deadline=WAIT, interval=0.3, what=f"a family record naming {family}")

    def settled(self, number: int) -> tuple[list[str], dict[str, Any]]:
        family = poll_until(lambda: self.connected(number), deadline=WAIT, interval=0.3, what=f"{number} CONNECTED")
        return family, self.record_of(family)


def replaced(fam: Family, number: int, position: int, old: str) -> list[str] | None:
    family = fam.connected(number)
    return family if family and family[position] not in ("", old) else None


def config_set(node: NodeRecord, key: str, value: Any) -> None:
    ok(node, "POST", "config/set/v1", key=key, value=value)


def customer_ids(node: NodeRecord) -> list[str]:
    return [row["idurl"] for row in ok(node, "GET", "customer/list/v1")]


def sigkill(node: NodeRecord) -> None:
    pids = engine_pids(node.home)
    assert pids, f"{node.name} is not running"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    poll_until(lambda: not engine_pids(node.home), deadline=60, what=f"{node.name} to die")


@pytest.fixture(scope="module")
def fam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Family]:
    box = Sandbox(tmp_path_factory.mktemp("family") / "net")
    started = time.monotonic()
    try:
        box.up(1, id_servers=1, dht_seeds=1, family=plan_family(SUPPLIERS, 4, needed_space=NEEDED_SPACE))
        print(f"\n[sandbox] up in {time.monotonic() - started:.1f} s")
        yield Family(box)
    finally:
        if (box.directory / "sandbox.json").exists():
            box.down()


def test_1_four_suppliers_connected_and_the_record_matches(fam: Family) -> None:
    customer = fam.customer
    started = time.monotonic()
    family = poll_until(lambda: fam.connected(4), deadline=WAIT, interval=0.1, what="4 CONNECTED suppliers")
    took = time.monotonic() - started
    uptime = ok(customer, "GET", "process/info/v1")["uptime"]
    print(
        f"\n[point 1] 4 suppliers CONNECTED {took:.1f} s after the sandbox was up, "
        f"at most {uptime:.1f} s after the customer's engine started"
    )
    assert len(set(family)) == 4 and customer.extra["idurl"] not in family
    per_supplier = ok(customer, "GET", "space/consumed/v1")["needed_per_supplier"]
    record = fam.record_of(family)  # the DHT answers only a record passing its rules, signature included
    assert record["ecc_map"] == "ecc/4x4" and record["customer_idurl"] == customer.extra["idurl"]
    for idurl in family:
        supplier = fam.by_idurl(idurl)
        assert customer_ids(supplier) == [customer.extra["idurl"]]
        donated = ok(supplier, "GET", "space/donated/v1")
        (share,) = [c for c in donated["customers"] if c["idurl"] == customer.extra["idurl"]]
        assert share["consumed"] == per_supplier == NEEDED_SPACE // 2
        assert donated["used"] + donated["free"] == donated["donated"]
    # the same lookup from a supplier (another DHT node) gives the same ordered list
    status, envelope = api(
        fam.by_idurl(family[0]), "GET", "supplier/list/dht/v1", customer_id=customer.extra["global_id"]
    )
    assert status == 200 and envelope["result"]["suppliers"] == family, envelope


def test_6_first_the_family_grows_to_seven_and_shrinks_to_two(fam: Family) -> None:
    customer = fam.customer
    four, record = fam.settled(4)
    config_set(customer, "services/customer/suppliers-number", 7)
    seven = poll_until(lambda: fam.connected(7), deadline=WAIT * 2, interval=0.5, what="7 CONNECTED")
    assert seven[:4] == four, "growing keeps the first positions"
    grown = fam.record_of(seven, above=record["revision"])
    assert grown["ecc_map"] == "ecc/7x7"
    config_set(customer, "services/customer/suppliers-number", 2)
    two = poll_until(lambda: fam.connected(2), deadline=WAIT, interval=0.3, what="2 CONNECTED")
    assert two == seven[:2]
    shrunk = fam.record_of(two, above=grown["revision"])
    assert shrunk["ecc_map"] == "ecc/2x2"
    for idurl in seven[2:]:
        poll_until(
            lambda i=idurl: customer.extra["idurl"] not in customer_ids(fam.by_idurl(i)),
            deadline=WAIT,
            what=f"{idurl} released",
        )
    config_set(customer, "services/customer/suppliers-number", 4)
    fam.settled(4)


def test_2_a_killed_supplier_is_replaced_at_its_position(fam: Family) -> None:
    customer = fam.customer
    config_set(customer, "services/employer/offline-seconds", OFFLINE_SECONDS)
    config_set(customer, "services/employer/hire-retry-seconds", 1)
    before, record = fam.settled(4)
    victim = fam.by_idurl(before[2])
    sigkill(victim)
    after = poll_until(lambda: replaced(fam, 4, 2, before[2]), deadline=WAIT, interval=0.3, what="position 2 replaced")
    assert after[:2] + after[3:] == before[:2] + before[3:], "the other positions do not move"
    assert after[2] not in before
    newer = fam.record_of(after, above=record["revision"])
    assert newer["revision"] > record["revision"]


def test_3_supplier_change_both_forms_and_its_refusals(fam: Family) -> None:
    customer = fam.customer
    before, _ = fam.settled(4)
    ok(customer, "POST", "supplier/change/v1", position=1)
    second = poll_until(lambda: replaced(fam, 4, 1, before[1]), deadline=WAIT, interval=0.3, what="position 1 changed")
    assert second[0] == before[0] and second[2:] == before[2:]

    alive = [s for s in fam.suppliers() if engine_pids(s.home)]
    chosen = next(s for s in alive if s.extra["idurl"] not in second and s.extra["idurl"] not in before)
    ok(customer, "GET", "user/ping/v1", user_id=chosen.extra["idurl"])
    ok(customer, "POST", "supplier/change/v1", position=1, new_supplier_id=chosen.extra["global_id"])
    third = poll_until(lambda: replaced(fam, 4, 1, second[1]), deadline=WAIT, interval=0.3, what="position 1 chosen")
    assert third[1] == chosen.extra["idurl"] and third[0] == second[0] and third[2:] == second[2:]
    record = fam.record_of(third)

    offline = next(s for s in fam.suppliers() if not engine_pids(s.home))  # point 2's victim
    bad = {
        "itself": (customer.extra["idurl"], "is ourselves"),
        "in the family": (third[3], "already in the family"),
        "unknown": ("http://127.0.0.1:9/nobody.xml", "is unknown"),
        "offline": (offline.extra["idurl"], "is offline"),
    }
    for case, (new_id, reason) in bad.items():
        status, envelope = api(customer, "POST", "supplier/change/v1", position=1, new_supplier_id=new_id)
        assert status == 400 and reason in " ".join(envelope["errors"]), (case, status, envelope)
    assert fam.connected(4) == third, "a refused change changes nothing"
    latest = fam.record()
    assert latest is not None and latest["revision"] == record["revision"]


def test_4_customer_reject_replaces_the_supplier_and_removes_its_files(fam: Family) -> None:
    customer = fam.customer
    before, _ = fam.settled(4)
    rejecter = fam.by_idurl(before[0])
    folder = HomePaths(rejecter.home).sub("customers") / customer.extra["global_id"]
    (folder / "backups").mkdir(parents=True, exist_ok=True)  # data the customer keeps there (the next
    (folder / "backups" / "piece").write_bytes(b"x" * 1024)  # issue moves it through the network)
    fam.rejecter = rejecter.extra["idurl"]
    ok(rejecter, "DELETE", "customer/reject/v1", customer_id=customer.extra["global_id"])
    started = time.monotonic()
    after = poll_until(lambda: replaced(fam, 4, 0, before[0]), deadline=WAIT, interval=0.2, what="position 0 replaced")
    print(f"\n[point 4] the rejecting supplier replaced in {time.monotonic() - started:.1f} s")
    assert after[1:] == before[1:]
    assert not folder.exists(), list(folder.rglob("*"))
    assert customer.extra["idurl"] not in customer_ids(rejecter)
    donated = ok(rejecter, "GET", "space/donated/v1")
    assert donated["customers_num"] == 0 and donated["old_customers"] == []


def _listen(node: NodeRecord, consumer: str, out: list[Any]) -> threading.Thread:
    thread = threading.Thread(
        target=lambda: out.append(api(node, "GET", f"event/listen/{consumer}/v1", _timeout=WAIT)), daemon=True
    )
    thread.start()
    return thread


def test_5_a_supplier_with_too_little_space_refuses_and_another_is_hired(fam: Family) -> None:
    customer = fam.customer
    before, _ = fam.settled(4)
    small = next(
        s
        for s in fam.suppliers()
        if engine_pids(s.home) and s.extra["idurl"] not in (*before, fam.rejecter) and customer_ids(s) == []
    )
    config_set(small, "services/supplier/donated-space", "64 MB")
    poll_until(lambda: ok(small, "GET", "space/donated/v1")["donated"] == 64 * MB, deadline=30, what="64 MB donated")
    events: list[Any] = []
    listener = _listen(small, "e2e-family-small", events)
    ok(customer, "GET", "user/ping/v1", user_id=small.extra["idurl"])
    try:
        ok(customer, "POST", "supplier/change/v1", position=3, new_supplier_id=small.extra["global_id"])
        after = poll_until(
            lambda: (f := fam.connected(4)) and f[3] not in (before[3], small.extra["idurl"]) and f,
            deadline=WAIT,
            interval=0.3,
            what="position 3 hired from someone else",
        )
        assert after[:3] == before[:3]
        listener.join(WAIT)
        seen: list[dict[str, Any]] = []

        def denied() -> list[dict[str, Any]]:
            for status, envelope in events:
                assert status == 200, envelope
                seen.extend(envelope["result"])
            events.clear()
            found = [e for e in seen if e.get("event_id", e.get("id")) == "new-customer-denied"]
            if not found:  # the events kept for this consumer since the last call
                events.append(api(small, "GET", "event/listen/e2e-family-small/v1", _timeout=WAIT))
            return found

        refusal = poll_until(denied, deadline=WAIT, what="new-customer-denied on the small supplier")
        assert "not enough space" in refusal[0]["data"]["reason"], refusal
        assert customer.extra["idurl"] not in customer_ids(small)
    finally:
        config_set(small, "services/supplier/donated-space", "256 MB")


def test_7_the_record_only_grows_and_matches_suppliers_list(fam: Family) -> None:
    family, record = fam.settled(4)
    assert record["suppliers"] == family == [row["idurl"] for row in fam.rows()]
    assert fam.revisions == sorted(fam.revisions), fam.revisions
    assert len(set(fam.revisions)) >= 6, fam.revisions  # every change above published a newer revision
