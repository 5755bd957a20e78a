"""The original BitDust's ``in``/``out`` counters, filled by a real Gateway pair on a ``task.Clock``."""

from __future__ import annotations

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p.traffic import IdentityFetches, TrafficStats
from tests.p2p.test_gateway import ALICE, BOB, CAROL, Net, delivery_failure, outcome

IN_KEYS = {
    "total_bytes",
    "unknown_bytes",
    "total_packets",
    "unknown_packets",
    "failed_packets",
    "identity_cache_count",
    "identity_cache_fails",
    "identity_cache_bytes",
    "peers",
}
OUT_KEYS = {"total_bytes", "unknown_bytes", "total_packets", "unknown_packets", "failed_packets", "peers"}


@pytest.fixture
def net(alice_key: RsaKey, bob_key: RsaKey) -> Net:
    return Net(alice_key, bob_key)


def test_sections_have_the_original_counters_and_keep_ours() -> None:
    report = TrafficStats().to_json()
    assert set(report["in"]) == IN_KEYS
    assert set(report["out"]) == OUT_KEYS
    assert {"total", "commands", "peers", "dropped"} <= set(report)
    assert all(report["in"][k] == 0 for k in IN_KEYS - {"peers"}) and report["in"]["peers"] == {}


def test_a_delivered_ping_counts_packets_and_bytes_per_peer(net: Net) -> None:
    net.handle(net.bob, commands.IDENTITY)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, b"ping"))
    net.flush()
    assert box and box[0].command == commands.ACK
    ping_wire = net.alice.transport.sent[0][3]
    ack_wire = net.bob.transport.sent[0][3]
    alice, bob = net.alice.gateway.stats.to_json(), net.bob.gateway.stats.to_json()
    assert alice["out"] == {
        "total_bytes": len(ping_wire),
        "unknown_bytes": 0,
        "total_packets": 1,
        "unknown_packets": 0,
        "failed_packets": 0,
        "peers": {BOB: len(ping_wire)},
    }
    assert alice["in"]["total_packets"] == 1 and alice["in"]["total_bytes"] == len(ack_wire)
    assert alice["in"]["peers"] == {BOB: len(ack_wire)}
    assert bob["in"]["total_packets"] == 1 and bob["in"]["peers"] == {ALICE: len(ping_wire)}
    assert bob["out"]["total_packets"] == 1  # its Ack, sent


def test_unknown_and_refused_incoming_packets(net: Net, alice_key: RsaKey, bob_key: RsaKey) -> None:
    net.handle(net.bob, commands.IDENTITY)
    garbage = b"\x00not a packet"
    not_for_us = net.wire(alice_key, remote_id=CAROL)
    forged = net.wire(bob_key, packet_id="forged")
    stale = net.wire(alice_key, packet_id="stale", date=net.clock.seconds() - 3600)
    good = net.wire(alice_key, packet_id="good")
    for data in (garbage, not_for_us, forged, stale, good, good):
        net.inject(net.bob, data)
    inbound = net.bob.gateway.stats.to_json()["in"]
    assert inbound["unknown_packets"] == 2 and inbound["unknown_bytes"] == len(garbage) + len(not_for_us)
    assert inbound["failed_packets"] == 3  # forged, stale, and the replayed good one
    assert inbound["total_packets"] == 1 and inbound["peers"] == {ALICE: len(good)}
    sizes = (garbage, not_for_us, forged, stale, good, good)
    assert inbound["total_bytes"] == sum(len(data) for data in sizes)


def test_an_unanswered_packet_counts_as_failed_out(net: Net) -> None:
    net.alice.transport.lose = 10
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=2, retries=1))
    net.clock.advance(1)
    net.clock.advance(1)
    assert delivery_failure(box).reason == "timeout"
    out = net.alice.gateway.stats.to_json()["out"]
    assert out["failed_packets"] == 1 and out["total_packets"] == 0 and out["unknown_packets"] == 0
    wire = net.alice.transport.sent[0][3]
    assert out["total_bytes"] == 2 * len(wire) and out["peers"] == {BOB: 2 * len(wire)}


def test_a_packet_to_a_receiver_whose_identity_is_unavailable_counts_as_unknown_out(net: Net) -> None:
    box = outcome(net.alice.gateway.send(commands.IDENTITY, CAROL, timeout=2, retries=0))
    net.flush()
    assert delivery_failure(box).reason == "identity"
    out = net.alice.gateway.stats.to_json()["out"]
    assert out["unknown_packets"] == 1 and out["failed_packets"] == 0
    assert out["total_bytes"] == 0 and out["unknown_bytes"] == 0


def test_identity_fetches_add_to_the_in_section() -> None:
    report = TrafficStats().to_json(IdentityFetches(count=2, fails=1, bytes=700))
    assert report["in"]["identity_cache_count"] == 2
    assert report["in"]["identity_cache_fails"] == 1
    assert report["in"]["identity_cache_bytes"] == 700
    assert report["in"]["total_bytes"] == 700  # as the original, fetched documents are bytes received


def test_peer_tables_stay_bounded() -> None:
    stats = TrafficStats(max_peers=2)
    for n in range(5):
        stats.count("in", commands.IDENTITY, f"http://h/{n}.xml", 10)
    assert stats.to_json()["in"]["peers"] == {"http://h/0.xml": 10, "http://h/1.xml": 10, "other": 30}


def test_each_attempt_is_an_item_of_the_outgoing_row(net: Net) -> None:
    net.alice.transport.lose = 1
    net.handle(net.bob, commands.IDENTITY)
    box = outcome(net.alice.gateway.send(commands.IDENTITY, BOB, timeout=4, retries=1))
    net.clock.advance(2)  # the first attempt was lost; the second is answered
    net.flush()
    assert box and box[0].command == commands.ACK
    [row, ack_in] = net.alice.gateway.packets_json()
    assert (row["direction"], row["command"], row["target"], row["response_timeout"]) == (
        "outgoing",
        commands.IDENTITY,
        BOB,
        4,
    )
    size = len(net.alice.transport.sent[0][3])
    assert [(i["proto"], i["host"], i["size"], i["bytes_sent"]) for i in row["items"]] == [
        ("tcp", "127.0.0.1:7002", size, size)
    ] * 2
    assert len({i["transfer_id"] for i in row["items"]}) == 2
    assert ack_in["direction"] == "incoming" and ack_in["target"] == BOB
    assert ack_in["proto"] == "tcp" and ack_in["bytes_received"] == ack_in["size"] > 0
