"""The packet_out machine: attempts, the timeout split, failures, cancelling (see automats/packet_out.md).

Driven through a real Gateway (it is what prepares and transmits) on a ``task.Clock``, with the
two-gateway harness of ``test_gateway.py``. The clock is stepped one attempt slice at a time:
``Clock.advance`` runs every due call at the *final* time, so one big step would skew the slices.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p.errors import DeliveryFailed
from bitdust.p2p.packet import Packet
from bitdust.p2p.packet_out import PacketOut
from bitdust.transport.errors import NotConnected
from tests.p2p.test_gateway import BOB, BOB_TCP, START, Net, delivery_failure, outcome
from tests.userid.helpers import QueuedBlocking, make_identity


@pytest.fixture
def net(alice_key: RsaKey, bob_key: RsaKey) -> Net:
    return Net(alice_key, bob_key)


def only_out(net: Net) -> PacketOut:
    [out] = net.alice.gateway.outgoing.values()
    return out


def send_times(net: Net) -> list[float]:
    return [at - START for at, _idurl, _contact, _data in net.alice.transport.sent]


def step(net: Net, seconds: float, times: int) -> None:
    for _ in range(times):
        net.clock.advance(seconds)


# -- success -----------------------------------------------------------------------------------


def test_acked_packet_is_done_destroyed_and_forgotten(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    out = only_out(net)
    assert out.state == "ACK_WAIT" and out.attempts == 1
    net.flush()
    assert isinstance(box[0], Packet) and box[0] is out.response
    assert out.state == "DONE" and out.destroyed
    assert out.finished == START
    assert net.alice.gateway.outgoing == {}


def test_ack_and_fail_of_our_own_are_done_once_written(net: Net) -> None:
    for command in (commands.ACK, commands.FAIL):
        box = outcome(net.alice.gateway.send(command, BOB, b"", packet_id=f"answer-{command}", timeout=9, retries=2))
        assert box == [None]
        assert net.alice.gateway.outgoing == {}
    assert net.alice.transport.sent_commands() == [commands.ACK, commands.FAIL]
    assert [entry["state"] for entry in net.alice.gateway.recent] == ["DONE", "DONE"]


def test_ack_arriving_while_waiting_to_retry_settles_the_packet(net: Net) -> None:
    """The transport said the write failed, but the packet got through: bob's Ack still counts."""
    net.handle(net.bob, commands.IDENTITY)
    real_send = net.alice.transport.send

    def delivered_but_failed(idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
        real_send(idurl, contact, data)
        return defer.fail(NotConnected("connection reset after the write"))

    net.alice.transport.send = delivered_but_failed  # type: ignore[method-assign]
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    assert only_out(net).state == "RETRY_WAIT"
    net.flush()
    assert isinstance(box[0], Packet)
    assert send_times(net) == [0.0]


# -- the timeout split over attempts -----------------------------------------------------------


def test_attempts_are_spaced_by_timeout_over_one_plus_retries(net: Net) -> None:
    net.alice.transport.lose = 100  # every packet vanishes on the way
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    assert only_out(net).attempt_timeout == 3.0
    step(net, 1, 8)
    assert send_times(net) == [0.0, 3.0, 6.0]
    assert box == []  # still waiting for the last attempt's Ack at 8 s
    net.clock.advance(1)
    error = delivery_failure(box)
    assert error.reason == "timeout"
    assert "did not answer Identity within 9 s (3 attempts)" in str(error)
    assert send_times(net) == [0.0, 3.0, 6.0]
    assert net.alice.gateway.outgoing == {}


def test_without_retries_one_attempt_gets_the_whole_timeout(net: Net) -> None:
    net.alice.transport.lose = 100
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=4, retries=0))
    net.clock.advance(3.5)
    assert box == []
    net.clock.advance(0.5)
    error = delivery_failure(box)
    assert error.reason == "timeout"
    assert "(1 attempt)" in str(error)
    assert send_times(net) == [0.0]


def test_default_timeout_and_retries_come_from_the_gateway(alice_key: RsaKey, bob_key: RsaKey) -> None:
    net = Net(alice_key, bob_key, default_timeout=6.0, default_retries=1)
    net.alice.transport.lose = 100
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    out = only_out(net)
    assert (out.timeout, out.retries, out.attempt_timeout) == (6.0, 1, 3.0)
    step(net, 3, 2)
    assert send_times(net) == [0.0, 3.0]
    assert delivery_failure(box).reason == "timeout"


def test_timeout_is_reported_to_observers_as_outbox_failed(net: Net) -> None:
    net.alice.transport.lose = 100
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=2, retries=0))
    net.clock.advance(2)
    assert delivery_failure(box).reason == "timeout"
    [(event, idurl, detail)] = net.alice.events
    assert (event, idurl) == ("outbox-failed", BOB)
    assert "did not answer" in detail


# -- failures before the peer could answer -----------------------------------------------------


def test_send_failure_is_retried_each_slice_then_refused(net: Net) -> None:
    net.alice.transport.fail = True
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    assert only_out(net).state == "RETRY_WAIT"
    step(net, 3, 1)
    assert box == [] and send_times(net) == [0.0, 3.0]
    step(net, 3, 1)
    error = delivery_failure(box)
    assert error.reason == "refused"
    assert "could not be sent" in str(error) and "connection refused" in str(error)
    assert send_times(net) == [0.0, 3.0, 6.0]
    assert net.alice.gateway.outgoing == {}


def test_transport_recovering_before_the_last_attempt_delivers(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.alice.transport.fail = True
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    step(net, 3, 1)
    net.alice.transport.fail = False
    step(net, 3, 1)
    net.flush()
    assert isinstance(box[0], Packet)
    assert send_times(net) == [0.0, 3.0, 6.0]
    assert len(net.bob.handled) == 1


def test_identity_without_a_reachable_contact_is_no_route(alice_key: RsaKey, bob_key: RsaKey) -> None:
    net = Net(alice_key, bob_key, bob_contacts=("udp://127.0.0.1:9999",))
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=3, retries=0))
    error = delivery_failure(box)
    assert error.reason == "no-route"
    assert "udp://127.0.0.1:9999" in str(error)
    assert net.alice.transport.sent == []
    assert net.alice.gateway.stats.total.packets_out == 0


def test_identity_without_contacts_is_no_route_after_the_retries(alice_key: RsaKey, bob_key: RsaKey) -> None:
    net = Net(alice_key, bob_key, bob_contacts=())
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    step(net, 3, 2)
    error = delivery_failure(box)
    assert error.reason == "no-route"
    assert "its contacts: none" in str(error)


def test_unknown_receiver_whose_identity_cannot_be_fetched(net: Net) -> None:
    net.alice.cache.forget(BOB)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    error = delivery_failure(box)
    assert error.reason == "identity"
    assert "HTTP 404" in str(error)
    assert net.alice.cache.fetches == [BOB]
    assert net.alice.transport.sent == []


def test_unknown_receiver_is_fetched_first(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    net.alice.cache.forget(BOB)
    net.alice.cache.remote[BOB] = net.bob.identity
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.flush()
    assert net.alice.cache.fetches == [BOB]
    assert isinstance(box[0], Packet)


def test_no_identity_or_no_key_fails_before_sending(net: Net) -> None:
    net.alice.gateway.identity = lambda: None
    assert delivery_failure(outcome(net.alice.gateway.send(commands.IDENTITY, BOB))).reason == "identity"
    net.alice.gateway.identity = lambda: net.alice.identity
    net.alice.gateway.signing_key = lambda: None
    error = delivery_failure(outcome(net.alice.gateway.send(commands.IDENTITY, BOB)))
    assert error.reason == "identity" and "master key" in str(error)
    assert net.alice.transport.sent == [] and net.alice.gateway.outgoing == {}


def test_packet_too_large_to_encode_is_refused(alice_key: RsaKey, bob_key: RsaKey) -> None:
    from bitdust.p2p.packet import Limits

    net = Net(alice_key, bob_key, limits=Limits(max_payload=10))
    error = delivery_failure(outcome(net.alice.gateway.send(commands.DATA, BOB, b"x" * 11)))
    assert error.reason == "refused"
    assert "payload is too long" in str(error)
    assert net.alice.transport.sent == []


def test_second_packet_with_an_id_in_flight_is_refused(net: Net) -> None:
    first = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, packet_id="same"))
    error = delivery_failure(outcome(net.alice.gateway.send(commands.DATA, BOB, packet_id="same")))
    assert error.reason == "failed" and "already in flight" in str(error)
    assert first == [] and only_out(net).packet.command == commands.IDENTITY


def test_transport_raising_instead_of_failing_still_settles_the_packet(net: Net) -> None:
    net.alice.transport.raise_error = True
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=3, retries=0))
    net.clock.advance(3)
    assert net.alice.gateway.outgoing == {}
    assert delivery_failure(box).reason == "refused"


# -- cancelling --------------------------------------------------------------------------------


def test_caller_cancelling_the_result_cancels_the_packet(net: Net) -> None:
    net.alice.transport.lose = 100
    d = net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2)
    out = only_out(net)
    box = outcome(d)
    d.cancel()
    error = delivery_failure(box)
    assert error.reason == "cancelled"
    assert out.state == "CANCELLED" and out.destroyed
    assert net.alice.gateway.outgoing == {}
    step(net, 3, 3)
    assert send_times(net) == [0.0]  # no more attempts after the cancel


def test_stop_cancels_a_packet_waiting_to_retry(net: Net) -> None:
    net.alice.transport.fail = True
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    out = only_out(net)
    net.alice.gateway.stop()
    assert delivery_failure(box).reason == "cancelled"
    assert out.state == "CANCELLED"
    step(net, 3, 3)
    assert send_times(net) == [0.0]
    assert net.clock.getDelayedCalls() == []


def test_stop_cancels_a_packet_still_being_signed(net: Net) -> None:
    held = QueuedBlocking()
    net.alice.gateway.run_blocking = held
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    out = only_out(net)
    assert out.state == "PREPARE" and len(held.calls) == 1
    net.alice.gateway.stop()
    assert delivery_failure(box).reason == "cancelled"
    held.run_all()  # signing finishes after the cancel: nothing is sent
    net.flush()
    assert net.alice.transport.sent == [] and out.state == "CANCELLED"
    [entry] = net.alice.gateway.recent
    assert entry["state"] == "CANCELLED" and "was cancelled" in entry["error"]


def test_cancelled_packet_is_not_reported_as_outbox_failed(net: Net) -> None:
    outcome(net.alice.gateway.send(commands.IDENTITY, BOB))
    net.alice.gateway.stop()
    assert net.alice.events == []


# -- reporting ---------------------------------------------------------------------------------


def test_to_json_describes_the_packet(net: Net) -> None:
    net.alice.transport.lose = 100
    outcome(net.alice.gateway.send(commands.DATA, BOB, b"abc", packet_id="p-1", timeout=9, retries=2))
    out = only_out(net)
    step(net, 3, 1)
    net.clock.advance(0.5)
    info: dict[str, Any] = out.to_json()
    assert info["packet_id"] == "p-1" and info["command"] == commands.DATA and info["remote_id"] == BOB
    assert info["state"] == "ACK_WAIT" and info["attempts"] == 2
    assert info["timeout"] == 9 and info["retries"] == 2
    assert info["created"] == START and info["duration"] == 3.5
    assert info["size"] == len(net.alice.transport.sent[0][3])
    assert info["error"] is None
    assert net.alice.transport.sent[0][2] == BOB_TCP


def test_failed_packet_error_mentions_the_last_send_error(net: Net) -> None:
    """Attempts that could not be sent, then one that was sent and never answered: the timeout says why."""
    net.alice.transport.fail = True
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=6, retries=1))
    net.alice.transport.fail = False
    net.alice.transport.lose = 100
    step(net, 3, 2)
    error = delivery_failure(box)
    assert error.reason == "timeout"
    assert "(2 attempts)" in str(error) and "last error" in str(error) and "connection refused" in str(error)
    assert isinstance(error, DeliveryFailed)


# -- refreshing the receiver's identity (REFRESH) ----------------------------------------------

BOB_OLD_TCP = "tcp://127.0.0.1:7999"  # where bob listened before; nobody does now


def path(out: PacketOut) -> list[tuple[str, str, str]]:
    return [(t.from_state, t.event, t.to_state) for t in out.history]


def stale_bob(net: Net, *, contacts: tuple[str, ...] = (), published: bool = True) -> None:
    """Alice holds bob's revision 0 with ``contacts``; bob's servers serve his current one when ``published``."""
    old = make_identity(net.bob.key, "bob", revision=0, sources=[BOB], contacts=contacts)
    net.alice.cache.known[BOB] = old
    net.alice.cache.remote[BOB] = net.bob.identity if published else old


class HeldRefresh:
    """A ``refresh_identity`` that answers only when the test says so."""

    def __init__(self, net: Net) -> None:
        self.net = net
        self.pending: list[tuple[str, defer.Deferred[Any]]] = []

    def __call__(self, idurl: str, *, reason: str = "") -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.pending.append((idurl, d))
        return d

    def answer(self) -> None:
        for idurl, d in self.pending:
            d.callback(self.net.alice.cache.get(idurl))
        self.pending.clear()


def test_no_route_refreshes_the_identity_and_sends_to_its_new_contact(net: Net) -> None:
    """SENDING -send-failed-> REFRESH -refreshed [is_route_changed]-> SENDING: no contact, then one."""
    net.handle(net.bob, commands.IDENTITY)
    stale_bob(net)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    out = only_out(net)
    assert out.state == "ACK_WAIT" and out.refreshes == 1
    assert net.alice.cache.refreshes == [BOB]
    net.flush()
    assert isinstance(box[0], Packet)
    assert path(out)[:5] == [
        ("AT_STARTUP", "run", "PREPARE"),
        ("PREPARE", "prepared", "SENDING"),
        ("SENDING", "send-failed", "REFRESH"),
        ("REFRESH", "refreshed", "SENDING"),
        ("SENDING", "sent", "ACK_WAIT"),
    ]
    assert send_times(net) == [0.0]  # the no-route attempt never reached a transport
    assert out.remote_identity == net.bob.identity


def test_refused_connection_refreshes_and_dials_where_the_peer_moved(net: Net) -> None:
    """A failed attempt (not only no route) refreshes: bob moved to another port."""
    net.handle(net.bob, commands.IDENTITY)
    stale_bob(net, contacts=(BOB_OLD_TCP,))
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    net.flush()
    assert isinstance(box[0], Packet)
    assert [contact for _t, _i, contact, _d in net.alice.transport.sent] == [BOB_OLD_TCP, BOB_TCP]
    assert only_out_done(net)["refreshes"] == 1


def only_out_done(net: Net) -> dict[str, Any]:
    [entry] = net.alice.gateway.recent
    assert entry["state"] == "DONE", entry
    return entry


def test_refresh_that_finds_nothing_waits_the_slice_and_refreshes_again(net: Net) -> None:
    """REFRESH -refreshed [!is_route_changed && is_retry_left]-> RETRY_WAIT; the next failure refreshes again."""
    net.handle(net.bob, commands.IDENTITY)
    stale_bob(net, published=False)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    out = only_out(net)
    assert out.state == "RETRY_WAIT" and ("REFRESH", "refreshed", "RETRY_WAIT") in path(out)
    net.alice.cache.remote[BOB] = net.bob.identity  # bob publishes his contact meanwhile
    step(net, 3, 1)
    net.flush()
    assert isinstance(box[0], Packet)
    assert net.alice.cache.refreshes == [BOB, BOB]
    assert only_out_done(net)["attempts"] == 3  # two without a route, one that went out


def test_no_route_after_the_refresh_and_no_retry_left_fails(alice_key: RsaKey, bob_key: RsaKey) -> None:
    """REFRESH -refreshed [!is_route_changed && !is_retry_left]-> FAILED, with the attempt's reason."""
    net = Net(alice_key, bob_key, bob_contacts=())
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=3, retries=0))
    error = delivery_failure(box)
    assert error.reason == "no-route" and "its contacts: none" in str(error)
    assert net.alice.cache.refreshes == [BOB]
    [entry] = net.alice.gateway.recent
    assert entry["state"] == "FAILED" and entry["refreshes"] == 1


def test_unanswered_attempt_refreshes_before_the_next(net: Net) -> None:
    """ACK_WAIT -attempt-timeout [is_retry_left]-> REFRESH, then the next attempt at once."""
    net.handle(net.bob, commands.IDENTITY)
    net.alice.transport.lose = 1
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    out = only_out(net)
    step(net, 3, 1)
    net.flush()
    assert isinstance(box[0], Packet)
    assert ("ACK_WAIT", "attempt-timeout", "REFRESH") in path(out)
    assert net.alice.cache.refreshes == [BOB]
    assert send_times(net) == [0.0, 3.0]


def test_unanswered_attempt_whose_refresh_moves_the_peer_sends_there(net: Net) -> None:
    """A peer that vanished from its old address (packets lost): the refresh finds the new one."""
    net.handle(net.bob, commands.IDENTITY)
    stale_bob(net, contacts=(BOB_OLD_TCP,))
    net.by_contact[BOB_OLD_TCP] = net.bob
    net.alice.transport.lose = 1
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    step(net, 3, 1)
    net.flush()
    assert isinstance(box[0], Packet)
    assert [contact for _t, _i, contact, _d in net.alice.transport.sent] == [BOB_OLD_TCP, BOB_TCP]


def _refresh_pending(net: Net) -> tuple[PacketOut, list[Any], HeldRefresh]:
    """A packet that reached bob although the transport said it failed, now refreshing bob's identity."""
    held = HeldRefresh(net)
    net.alice.gateway.refresh_identity = held  # type: ignore[method-assign]
    real_send = net.alice.transport.send

    def delivered_but_failed(idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
        real_send(idurl, contact, data)
        return defer.fail(NotConnected("connection reset after the write"))

    net.alice.transport.send = delivered_but_failed  # type: ignore[method-assign]
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=9, retries=2))
    out = only_out(net)
    assert out.state == "REFRESH" and len(held.pending) == 1
    return out, box, held


def test_ack_while_refreshing_settles_the_packet(net: Net) -> None:
    """REFRESH -ack-> DONE; the refresh answering later changes nothing."""
    net.handle(net.bob, commands.IDENTITY)
    out, box, held = _refresh_pending(net)
    net.flush()
    assert isinstance(box[0], Packet) and out.state == "DONE"
    held.answer()
    net.flush()
    assert out.state == "DONE" and send_times(net) == [0.0]


def test_fail_while_refreshing_fails_the_packet(net: Net) -> None:
    """REFRESH -fail-> FAILED: bob has no handler for Identity and answers Fail."""
    out, box, held = _refresh_pending(net)
    net.flush()
    error = delivery_failure(box)
    assert error.reason == "failed" and "unknown command" in str(error)
    assert out.state == "FAILED"
    held.answer()
    assert send_times(net) == [0.0]


def test_cancel_while_refreshing(net: Net) -> None:
    """REFRESH -cancel-> CANCELLED."""
    out, box, held = _refresh_pending(net)
    net.alice.gateway.stop()
    assert delivery_failure(box).reason == "cancelled" and out.state == "CANCELLED"
    held.answer()
    step(net, 3, 3)
    assert send_times(net) == [0.0]
