"""ContactStatuses and the contact_status machine (see automats/contact_status.md), on a ``task.Clock``.

The pinger is a fake that records each check and hands back a Deferred the test fires by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.p2p.contacts import ContactStatuses
from bitdust.p2p.errors import DeliveryFailed

ALICE = "http://127.0.0.1:8084/alice.xml"
BOB = "http://127.0.0.1:8084/bob.xml"
CAROL = "http://127.0.0.1:8084/carol.xml"


class FakePinger:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.pending: list[defer.Deferred[Any]] = []

    def __call__(self, idurl: str, timeout: float) -> defer.Deferred[Any]:
        self.calls.append((idurl, timeout))
        d: defer.Deferred[Any] = defer.Deferred()
        self.pending.append(d)
        return d

    def answer(self) -> None:
        self.pending.pop(0).callback(None)

    def fail(self, message: str = "bob did not answer Identity within 10 s") -> None:
        self.pending.pop(0).errback(DeliveryFailed(message, reason="timeout"))


class Harness:
    def __init__(self, **options: Any) -> None:
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.pinger = FakePinger()
        self.reports: list[tuple[str, str, str]] = []
        self.contacts = ContactStatuses(
            clock=self.clock,
            pinger=self.pinger,
            report=lambda idurl, old, new: self.reports.append((idurl, old, new)),
            **options,
        )

    def inbox(self, idurl: str) -> None:
        self.contacts.on_gateway("inbox-packet", idurl, object())

    def state(self, idurl: str) -> str:
        return self.contacts.state(idurl)


@pytest.fixture
def h() -> Harness:
    return Harness(ping_timeout=10.0)


def fired(d: defer.Deferred[Any]) -> list[Any]:
    box: list[Any] = []
    d.addBoth(box.append)
    return box


# -- gateway events ----------------------------------------------------------------------------


def test_unknown_peer_is_offline(h: Harness) -> None:
    assert h.state(BOB) == "OFFLINE"
    assert h.contacts.find(BOB) is None and h.contacts.list() == []


def test_inbox_packet_makes_the_peer_connected(h: Harness) -> None:
    h.inbox(BOB)
    assert h.state(BOB) == "CONNECTED"
    status = h.contacts.find(BOB)
    assert status is not None and status.last_seen == 1000 and status.problem is None
    assert h.contacts.connected() == [BOB]
    assert h.reports == [(BOB, "OFFLINE", "CONNECTED")]


def test_more_packets_only_refresh_last_seen(h: Harness) -> None:
    h.inbox(BOB)
    h.clock.advance(5)
    h.inbox(BOB)
    status = h.contacts.find(BOB)
    assert status.last_seen == 1005 and status.since == 1000
    assert h.reports == [(BOB, "OFFLINE", "CONNECTED")]


def test_outbox_failed_makes_a_connected_peer_offline_with_the_problem(h: Harness) -> None:
    h.inbox(BOB)
    h.contacts.on_gateway("outbox-failed", BOB, "bob did not answer Data within 15 s")
    assert h.state(BOB) == "OFFLINE"
    assert h.contacts.find(BOB).problem == "bob did not answer Data within 15 s"
    assert h.reports[-1] == (BOB, "CONNECTED", "OFFLINE")


def test_outbox_done_and_other_gateway_events_change_nothing(h: Harness) -> None:
    h.contacts.on_gateway("outbox-done", BOB, object())
    assert h.contacts.find(BOB) is None and h.reports == []


# -- closes reported by the transports ---------------------------------------------------------


def test_shutdown_goodbye_makes_the_peer_offline(h: Harness) -> None:
    h.inbox(BOB)
    h.contacts.on_peer_closed(BOB, "shutdown")
    assert h.state(BOB) == "OFFLINE"
    assert "shutting down" in h.contacts.find(BOB).problem
    assert h.pinger.calls == []


def test_lost_connection_pings_then_ping_ok_is_connected(h: Harness) -> None:
    h.inbox(BOB)
    h.contacts.on_peer_closed(BOB, "lost")
    assert h.state(BOB) == "PING"
    assert h.pinger.calls == [(BOB, 10.0)]
    h.pinger.answer()
    assert h.state(BOB) == "CONNECTED"
    assert h.reports == [(BOB, "OFFLINE", "CONNECTED"), (BOB, "CONNECTED", "PING"), (BOB, "PING", "CONNECTED")]


def test_lost_connection_pings_then_ping_failed_is_offline(h: Harness) -> None:
    h.inbox(BOB)
    h.contacts.on_peer_closed(BOB, "lost")
    h.pinger.fail("no answer from bob")
    assert h.state(BOB) == "OFFLINE"
    assert h.contacts.find(BOB).problem == "no answer from bob"
    assert h.reports[-1] == (BOB, "PING", "OFFLINE")


def test_packet_from_the_peer_during_the_ping_makes_it_connected(h: Harness) -> None:
    h.inbox(BOB)
    h.contacts.on_peer_closed(BOB, "lost")
    h.inbox(BOB)
    assert h.state(BOB) == "CONNECTED"


@pytest.mark.parametrize("how", ["idle", "duplicate", "local"])
def test_quiet_closes_change_nothing(h: Harness, how: str) -> None:
    h.inbox(BOB)
    h.contacts.on_peer_closed(BOB, how)
    assert h.state(BOB) == "CONNECTED"
    assert h.pinger.calls == [] and len(h.reports) == 1


def test_close_of_an_unknown_peer_is_ignored(h: Harness) -> None:
    h.contacts.on_peer_closed(BOB, "lost")
    h.contacts.on_peer_closed(BOB, "shutdown")
    assert h.contacts.find(BOB) is None and h.pinger.calls == []


def test_lost_while_offline_does_not_ping(h: Harness) -> None:
    h.contacts.on_gateway("outbox-failed", BOB, "refused")
    h.contacts.on_peer_closed(BOB, "lost")
    assert h.state(BOB) == "OFFLINE" and h.pinger.calls == []


def test_outbox_failed_during_the_ping_makes_the_peer_offline(h: Harness) -> None:
    # Edge PING -> OFFLINE on outbox-failed: a packet that could not be delivered ends the ping's hope.
    h.inbox(BOB)
    h.contacts.on_peer_closed(BOB, "lost")
    h.contacts.on_gateway("outbox-failed", BOB, "bob refused the connection")
    assert h.state(BOB) == "OFFLINE"
    assert h.contacts.find(BOB).problem == "bob refused the connection"
    assert h.reports[-1] == (BOB, "PING", "OFFLINE")
    assert h.pinger.calls == [(BOB, 10.0)]


def test_shutdown_goodbye_during_the_ping_makes_the_peer_offline(h: Harness) -> None:
    # Edge PING -> OFFLINE on went-offline: the peer said goodbye while we were pinging it.
    h.inbox(BOB)
    h.contacts.on_peer_closed(BOB, "lost")
    h.contacts.on_peer_closed(BOB, "shutdown")
    assert h.state(BOB) == "OFFLINE"
    assert "shutting down" in h.contacts.find(BOB).problem
    assert h.reports[-1] == (BOB, "PING", "OFFLINE")
    assert h.pinger.calls == [(BOB, 10.0)]


# -- check() -----------------------------------------------------------------------------------


def test_check_fires_connected_when_the_ping_is_answered(h: Harness) -> None:
    box = fired(h.contacts.check(BOB, 4.0))
    assert box == [] and h.state(BOB) == "PING"
    assert h.pinger.calls == [(BOB, 4.0)]
    h.pinger.answer()
    assert box == ["CONNECTED"]
    assert h.clock.getDelayedCalls() == []


def test_check_fires_offline_when_the_ping_fails(h: Harness) -> None:
    box = fired(h.contacts.check(BOB, 4.0))
    h.pinger.fail()
    assert box == ["OFFLINE"]
    assert h.clock.getDelayedCalls() == []


def test_check_gives_up_a_second_after_its_timeout(h: Harness) -> None:
    box = fired(h.contacts.check(BOB, 4.0))
    h.clock.advance(4.9)
    assert box == []
    h.clock.advance(0.1)
    assert box == ["PING"]


def test_check_with_a_synchronous_answer_fires_at_once() -> None:
    h = Harness()
    h.contacts.pinger = lambda idurl, timeout: defer.succeed(None)
    assert fired(h.contacts.check(BOB, 1.0)) == ["CONNECTED"]


def test_two_checks_share_one_ping(h: Harness) -> None:
    first = fired(h.contacts.check(BOB, 4.0))
    second = fired(h.contacts.check(BOB, 4.0))
    assert len(h.pinger.calls) == 1
    h.pinger.answer()
    assert first == second == ["CONNECTED"]


def test_check_of_a_connected_peer_pings_again(h: Harness) -> None:
    h.inbox(BOB)
    box = fired(h.contacts.check(BOB, 2.0))
    assert h.state(BOB) == "PING" and h.pinger.calls == [(BOB, 2.0)]
    h.pinger.fail()
    assert box == ["OFFLINE"]


# -- reporting and bounds ----------------------------------------------------------------------


def test_report_callback_sees_every_change_and_to_json(h: Harness) -> None:
    h.inbox(BOB)
    h.clock.advance(3)
    h.contacts.on_gateway("outbox-failed", BOB, "refused")
    assert h.reports == [(BOB, "OFFLINE", "CONNECTED"), (BOB, "CONNECTED", "OFFLINE")]
    [row] = h.contacts.list()
    assert row["idurl"] == BOB and row["contact_state"] == "OFFLINE"
    assert row["since"] == 1003 and row["last_seen"] == 1000 and row["problem"] == "refused"


def test_max_peers_evicts_an_offline_peer_first() -> None:
    h = Harness(max_peers=2)
    h.inbox(ALICE)  # connected, and the oldest
    h.clock.advance(1)
    h.contacts.on_gateway("outbox-failed", BOB, "refused")  # offline
    evicted = h.contacts.find(BOB)
    h.clock.advance(1)
    h.inbox(CAROL)
    assert {row["idurl"] for row in h.contacts.list()} == {ALICE, CAROL}
    assert evicted.destroyed
    assert h.state(ALICE) == "CONNECTED" and h.state(CAROL) == "CONNECTED"


def test_max_peers_without_offline_peers_evicts_the_oldest() -> None:
    h = Harness(max_peers=2)
    h.inbox(ALICE)
    h.clock.advance(1)
    h.inbox(BOB)
    h.clock.advance(1)
    h.inbox(CAROL)
    assert {row["idurl"] for row in h.contacts.list()} == {BOB, CAROL}


def test_destroy_forgets_everyone(h: Harness) -> None:
    h.inbox(BOB)
    status = h.contacts.find(BOB)
    h.contacts.destroy()
    assert status.destroyed and h.contacts.list() == [] and h.state(BOB) == "OFFLINE"


# -- watchers ----------------------------------------------------------------------------------


def test_a_watcher_hears_each_change_of_its_peer_only_until_it_stops() -> None:
    h = Harness()
    heard: list[tuple[str, str, str]] = []
    stop = h.contacts.watch(BOB, lambda idurl, old, new: heard.append((idurl, old, new)))
    h.inbox(CAROL)  # another peer: not heard
    h.inbox(BOB)  # the machine is made after the watch began: still heard
    h.contacts.on_gateway("outbox-failed", BOB, "gone")
    assert heard == [(BOB, "OFFLINE", "CONNECTED"), (BOB, "CONNECTED", "OFFLINE")]
    assert (BOB, "OFFLINE", "CONNECTED") in h.reports  # the report is still told too
    stop()
    h.inbox(BOB)
    assert len(heard) == 2


def test_a_failing_watcher_does_not_stop_the_others() -> None:
    h = Harness()
    heard: list[str] = []

    def broken(idurl: str, old: str, new: str) -> None:
        raise RuntimeError("a bug in a watcher")

    h.contacts.watch(BOB, broken)
    h.contacts.watch(BOB, lambda idurl, old, new: heard.append(new))
    h.inbox(BOB)
    assert heard == ["CONNECTED"] and h.state(BOB) == "CONNECTED"


def test_a_refused_packet_leaves_the_peer_connected(h: Harness) -> None:
    h.inbox(BOB)  # the Fail itself arrived
    h.contacts.on_gateway("outbox-refused", BOB, "bob answered Fail to RequestService: not enough space")
    assert h.state(BOB) == "CONNECTED"
