"""End to end: two real nodes (alice = node-1, bob = node-2) exchange signed packets over TCP.

The sandbox runs two identity servers; every node publishes ``tcp://127.0.0.1:<tcp_port>`` in its
identity. The tests go through the REST API only, as a user would, plus raw sockets for the attack.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p.packet import DEFAULT_LIMITS, Packet, encode, sign
from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from bitdust.transport.tcp import frames
from tests.e2e.helpers import api, healthy, ok, poll_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path_factory.mktemp("network"))
    try:
        sandbox.up(2, id_servers=2)
        for record in _nodes(sandbox):
            ok(record, "GET", "network/connected/v1", wait_timeout=20)
        yield sandbox
    finally:
        if (sandbox.directory / "sandbox.json").exists():
            sandbox.down()


def _nodes(sandbox: Sandbox) -> list[NodeRecord]:
    return [record for record in sandbox.load().nodes if record.role == "node"]


def _pair(sandbox: Sandbox) -> tuple[NodeRecord, NodeRecord]:
    alice, bob = _nodes(sandbox)
    return alice, bob


def _state(node: NodeRecord, peer: NodeRecord) -> str:
    return ok(node, "GET", "user/status/v1", user_id=peer.extra["global_id"])["contact_state"]


def test_identity_lists_the_tcp_contact(box: Sandbox) -> None:
    for record in _nodes(box):
        assert record.extra["tcp_port"]
        identity = ok(record, "GET", "identity/get/v1")
        assert identity["contacts"] == [f"tcp://127.0.0.1:{record.extra['tcp_port']}"]
        status = ok(record, "GET", "network/status/v1", tcp=1)
        assert status["network_connector_state"] == "CONNECTED"
        assert status["p2p_connector_state"] == "CONNECTED"
        assert status["tcp"]["listening_port"] == record.extra["tcp_port"]
        config = ok(record, "GET", "network/configuration/v1")
        assert config["services"]["service_tcp_transport"]["state"] == "ON"
        assert config["tcp"]["listening_port"] == record.extra["tcp_port"]


def test_alice_pings_bob(box: Sandbox) -> None:
    alice, bob = _pair(box)
    result = ok(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=10)
    assert result["contact_state"] == "CONNECTED"
    assert 0 < result["rtt"] < 10
    assert _state(alice, bob) == "CONNECTED"
    assert _state(bob, alice) == "CONNECTED"

    stats = ok(alice, "GET", "packet/stats/v1")
    assert stats["commands"]["Identity"]["packets_out"] >= 1
    assert stats["commands"]["Ack"]["packets_in"] >= 1
    peer = stats["peers"][bob.extra["idurl"]]
    assert peer["bytes_out"] > 0 and peer["bytes_in"] > 0
    # the original's sections, from the same counters
    assert stats["out"]["total_packets"] >= 1 and stats["out"]["peers"][bob.extra["idurl"]] > 0
    assert stats["in"]["total_packets"] >= 1 and stats["in"]["peers"][bob.extra["idurl"]] > 0
    assert stats["in"]["total_bytes"] >= stats["in"]["peers"][bob.extra["idurl"]]
    assert stats["out"]["total_bytes"] >= stats["out"]["peers"][bob.extra["idurl"]]
    assert stats["in"]["identity_cache_count"] >= 1 and stats["in"]["identity_cache_bytes"] > 0
    bob_stats = ok(bob, "GET", "packet/stats/v1")
    assert bob_stats["commands"]["Identity"]["packets_in"] >= 1
    assert bob_stats["in"]["peers"][alice.extra["idurl"]] > 0

    connections = ok(alice, "GET", "connection/list/v1", protocols="tcp")
    to_bob = [c for c in connections if c["idurl"] == bob.extra["idurl"]]
    assert len(to_bob) == 1, connections
    assert to_bob[0]["status"] == "active" and to_bob[0]["bytes_sent"] > 0 and to_bob[0]["bytes_received"] > 0
    assert to_bob[0]["global_id"] == bob.extra["global_id"] and to_bob[0]["proto"] == "tcp"
    assert ok(alice, "GET", "stream/list/v1") == []
    rows = ok(alice, "GET", "packet/list/v1")
    assert isinstance(rows, list) and all({"direction", "command", "packet_id"} <= set(row) for row in rows)
    pings = [r for r in rows if r["direction"] == "outgoing" and r["command"] == "Identity" and r["state"] == "DONE"]
    assert pings and pings[-1]["target"] == bob.extra["idurl"] and pings[-1]["in_flight"] is False
    [item, *_] = pings[-1]["items"]
    assert item["proto"] == "tcp" and item["bytes_sent"] == item["size"] > 0
    acks = [r for r in rows if r["direction"] == "incoming" and r["packet_id"] == pings[-1]["packet_id"]]
    assert acks and acks[-1]["command"] == "Ack" and acks[-1]["target"] == bob.extra["idurl"]

    info = ok(alice, "GET", "process/info/v1")
    for section in ("config", "identity", "contact", "service", "key", "file", "dht", "share", "group", "network"):
        assert isinstance(info[section], dict), section
    assert info["network"]["protocols"] == ["tcp"] and info["network"]["packets_out_total"] >= 1
    assert info["network"]["packets_in_total"] >= 1
    assert info["contact"]["active"] >= 1 and info["identity"]["cache"] >= 1 and info["identity"]["ready"] is True
    assert info["key"]["registered"] >= 1 and info["service"]["active"] >= 1
    assert set(info["dht"]) == {"layers", "bytes_in", "bytes_out"}
    assert set(info["stream"]) >= {"queues", "consumers", "producers"}


def test_bad_user_ids_are_refused(box: Sandbox) -> None:
    alice, _bob = _pair(box)
    status, envelope = api(alice, "GET", "user/ping/v1", user_id="not a user")
    assert status == 400 and envelope["status"] == "ERROR"
    status, envelope = api(alice, "GET", "user/ping/v1", user_id=alice.extra["global_id"])
    assert status == 400 and "own identity" in envelope["errors"][0]
    status, envelope = api(alice, "GET", "user/ping/v1", user_id="bob@127.0.0.1_1", timeout=-1)
    assert status == 400
    status, envelope = api(alice, "GET", "connection/list/v1", protocols="carrier-pigeon")
    assert status == 400


def _raw_connection(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def _closed_by_peer(sock: socket.socket) -> bool:
    """Read until the peer closes (True) or the socket times out (False)."""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_garbage_on_the_tcp_port_is_refused(box: Sandbox) -> None:
    alice, bob = _pair(box)
    port = bob.extra["tcp_port"]
    hello = frames.encode_hello()
    attacks = {
        "random bytes": os.urandom(4096),
        "oversized frame": hello + frames.HEADER.pack(frames.FrameType.MESSAGE, 0, frames.MAX_MESSAGE + 1),
        "unknown frame type": hello + frames.HEADER.pack(99, 0, 0),
        "small stream": hello + frames.encode_frame(frames.FrameType.STREAM_START, 1, frames.STREAM_TOTAL.pack(10)),
    }
    for name, blob in attacks.items():
        with _raw_connection(port) as sock:
            try:
                sock.sendall(blob)
            except (ConnectionResetError, BrokenPipeError):
                continue  # already dropped
            assert _closed_by_peer(sock), f"bob kept the connection after {name}"

    # A truncated frame: the peer waits for the rest; our side gives up and closes, bob survives it.
    with _raw_connection(port) as sock:
        sock.sendall(hello + frames.HEADER.pack(frames.FrameType.MESSAGE, 0, 1000) + b"x" * 10)

    # Well-framed packets that do not verify: signed by a stranger's key in alice's name, then garbage msgpack.
    stranger = RsaKey.generate(1024)
    forged = sign(
        Packet(
            command=commands.IDENTITY,
            owner_id=alice.extra["idurl"],
            creator_id=alice.extra["idurl"],
            packet_id="forged-1",
            date=time.time(),
            payload=b"<identity/>",
            remote_id=bob.extra["idurl"],
        ),
        stranger,
    )
    bad = frames.encode_frame(frames.FrameType.MESSAGE, 0, encode(forged))
    junk = frames.encode_frame(frames.FrameType.MESSAGE, 0, b"\x93\x01\x02")
    with _raw_connection(port) as sock:
        try:
            sock.sendall(hello + (bad + junk) * 3)
        except (ConnectionResetError, BrokenPipeError):
            pass  # bob may drop us before we finish writing: that is the point
        assert _closed_by_peer(sock), "bob kept a connection that sent only bad packets"

    assert healthy(bob)
    dropped = poll_until(
        lambda: (d := ok(bob, "GET", "packet/stats/v1")["dropped"]).get("bad-signature") and d,
        deadline=20,
        what="bob to count the forged packet",
    )
    assert dropped.get("malformed", 0) >= 1
    inbound = ok(bob, "GET", "packet/stats/v1")["in"]
    assert inbound["failed_packets"] >= 1  # the forged one: a named sender, refused
    assert inbound["unknown_packets"] >= 1 and inbound["unknown_bytes"] > 0  # the junk: nobody to name
    violations = ok(bob, "GET", "network/status/v1", tcp=1)["tcp"]["violations"]
    assert violations >= len(attacks) - 1
    # Bob still serves honest peers.
    assert ok(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=10)["contact_state"] == "CONNECTED"


def test_identity_change_reaches_connected_peers(box: Sandbox) -> None:
    alice, bob = _pair(box)
    ok(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=10)
    before = ok(alice, "GET", "identity/get/v1")
    ok(alice, "POST", "config/set/v1", key="services/tcp-connections/host", value="localhost")
    try:
        ok(alice, "GET", "network/reconnect/v1")
        expected = f"tcp://localhost:{alice.extra['tcp_port']}"

        def bob_knows() -> dict | None:
            rows = ok(bob, "GET", "identity/cache/list/v1")
            row = next((r for r in rows if r["idurl"] == alice.extra["idurl"]), None)
            return row if row and row["contacts"] == [expected] else None

        row = poll_until(bob_knows, deadline=30, what="bob to receive alice's new identity")
        assert row["revision"] > int(before["revision"])
        # The identity servers have it too: a ping from bob goes to the new contact.
        assert ok(bob, "GET", "user/ping/v1", user_id=alice.extra["global_id"], timeout=10)
    finally:
        ok(alice, "POST", "config/set/v1", key="services/tcp-connections/host", value="")
        ok(alice, "GET", "network/reconnect/v1")


def test_peer_goes_offline_and_comes_back(box: Sandbox, tmp_path: Path) -> None:
    alice, bob = _pair(box)
    ok(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=10)
    alice_pid = alice.pid
    box.stop_node(bob.name)
    poll_until(lambda: _state(alice, bob) == "OFFLINE", deadline=20, what="alice to see bob OFFLINE")

    started = time.monotonic()
    status, envelope = api(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=3, retries=1)
    elapsed = time.monotonic() - started
    assert status != 200 and envelope["status"] == "ERROR"
    assert bob.extra["idurl"] in envelope["errors"][0]
    assert elapsed < 3 + 2, elapsed  # within the timeout, plus the API's own overhead
    assert _state(alice, bob) == "OFFLINE"

    box.start_node(bob.name)
    bob = next(r for r in _nodes(box) if r.name == bob.name)
    ok(bob, "GET", "network/connected/v1", wait_timeout=20)
    result = ok(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=10)
    assert result["contact_state"] == "CONNECTED"
    assert _state(alice, bob) == "CONNECTED"
    assert next(r for r in _nodes(box) if r.name == alice.name).pid == alice_pid  # alice was never restarted


def test_network_connected_and_reconnect(box: Sandbox) -> None:
    alice, _bob = _pair(box)
    assert ok(alice, "GET", "network/connected/v1", wait_timeout=5)["network_connector_state"] == "CONNECTED"
    ok(alice, "GET", "network/reconnect/v1")
    poll_until(
        lambda: ok(alice, "GET", "network/status/v1")["network_connector_state"] == "CONNECTED",
        deadline=20,
        what="alice to be connected again",
    )


def test_a_rotated_identity_reaches_connected_peers(tmp_path: Path) -> None:
    """Alice moves to an identity server she did not use; bob learns it from her, not from a server."""
    sandbox = Sandbox(tmp_path / "rotation")
    try:
        sandbox.up(2, id_servers=3)
        alice, bob = _pair(sandbox)
        for record in (alice, bob):
            ok(record, "GET", "network/connected/v1", wait_timeout=20)
        ok(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=10)
        rotated = ok(alice, "PUT", "identity/rotate/v1")
        assert rotated["rotated"] and rotated["idurl"] != alice.extra["idurl"]

        def bob_follows() -> dict | None:
            rows = ok(bob, "GET", "identity/cache/list/v1")
            return next((r for r in rows if r["idurl"] == rotated["idurl"]), None)

        row = poll_until(bob_follows, deadline=30, what="bob to receive alice's rotated identity")
        assert row["revision"] == int(rotated["revision"])
        # Bob still reaches alice by the name he knew her by: the old IDURL is now an alias.
        answer = ok(bob, "GET", "user/ping/v1", user_id=alice.extra["global_id"], timeout=10)
        assert answer["idurl"] == rotated["idurl"] and answer["contact_state"] == "CONNECTED"
    finally:
        if (sandbox.directory / "sandbox.json").exists():
            sandbox.down()


def test_unfinished_streams_from_strangers_are_held_to_a_small_budget(box: Sandbox) -> None:
    """Issue 11, point 3: 8 raw connections each start 4 streams of the biggest packet and never end
    them; bob holds at most a stranger's budget for each, and alice's pings still get through."""
    alice, bob = _pair(box)
    total = DEFAULT_LIMITS.max_packet
    body = b"a" * frames.MAX_CHUNK
    socks = [_raw_connection(bob.extra["tcp_port"]) for _ in range(8)]
    try:
        for sock in socks:
            sock.settimeout(0.5)
            try:
                sock.sendall(frames.encode_hello())
                for sid in range(1, 5):
                    sock.sendall(
                        frames.encode_frame(frames.FrameType.STREAM_START, sid, frames.STREAM_TOTAL.pack(total))
                    )
                    for _ in range(16):  # 4 MiB of each stream, then the next: bob stops reading early
                        sock.sendall(frames.encode_frame(frames.FrameType.STREAM_CHUNK, sid, body))
            except (TimeoutError, OSError):
                pass  # bob stopped reading this one: the push-back we want
        status = poll_until(
            lambda: (
                (tcp := ok(bob, "GET", "network/status/v1", tcp=1)["tcp"])["unfinished_bytes_strangers"] > 0 and tcp
            ),
            deadline=20,
            what="bob to hold some of the flood",
        )
        assert status["unfinished_bytes_strangers"] <= 8 * (512 + 64) * 1024
        result = ok(alice, "GET", "user/ping/v1", user_id=bob.extra["global_id"], timeout=10)
        assert result["contact_state"] == "CONNECTED"
        assert ok(bob, "GET", "network/status/v1", tcp=1)["tcp"]["unfinished_bytes_strangers"] <= 8 * (512 + 64) * 1024
    finally:
        for sock in socks:
            sock.close()
    assert healthy(bob)
