"""packets_list, packets_stats and network_status in the original's shapes, over a real Gateway and P2PHub."""

from __future__ import annotations

import types
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.interface.api import network
from bitdust.main.errors import Unavailable
from bitdust.p2p.gateway import Gateway
from bitdust.services.network_part import P2PHub

ALICE = "http://127.0.0.1:8084/alice.xml"


class FakeConnector:
    def __init__(self, state: str) -> None:
        self.state = state
        self.problem: str | None = None


class FakeTcp:
    proto = "tcp"

    def __init__(self) -> None:
        self.streams: list[dict[str, Any]] = []

    def streams_json(self) -> list[dict[str, Any]]:
        return self.streams

    def send(self, idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
        return defer.succeed(None)


def _engine() -> Any:
    cache = types.SimpleNamespace(fetched=3, fetch_failures=1, fetched_bytes=900)
    engine = types.SimpleNamespace(
        identity_cache=cache,
        local_identity=types.SimpleNamespace(current=None),
    )
    engine.p2p = P2PHub(engine)
    return engine


def _gateway() -> Gateway:
    return Gateway(
        clock=task.Clock(),
        identity=lambda: None,
        signing_key=lambda: None,
        cache=types.SimpleNamespace(get=lambda idurl: None),
        run_blocking=lambda fn, *a, **kw: defer.maybeDeferred(fn, *a, **kw),
    )


def test_packets_list_is_a_list_of_rows_with_incoming_streams() -> None:
    engine = _engine()
    engine.p2p.gateway = _gateway()
    engine.p2p.tcp = tcp = FakeTcp()
    tcp.streams = [
        {"proto": "tcp", "stream_id": 7, "direction": "in", "idurl": ALICE, "host": "127.0.0.1:7001"}
        | {"bytes_done": 100, "size": 400, "progress": 0.25},
        {"proto": "tcp", "stream_id": 8, "direction": "out", "idurl": ALICE, "host": "127.0.0.1:7001"}
        | {"bytes_done": 0, "size": 400, "progress": 0.0},
    ]
    rows = network.packets_list(engine)
    assert isinstance(rows, list)
    [row] = rows  # only the incoming stream: outgoing streams belong to outgoing packets
    assert {"direction", "command", "packet_id", "transfer_id", "label", "target", "timeout", "proto", "host"} <= set(
        row
    )
    assert (row["direction"], row["target"], row["size"], row["bytes_received"]) == ("incoming", ALICE, 400, 100)
    assert row["in_flight"] is True


def test_packets_stats_has_in_and_out_with_identity_cache_counters() -> None:
    engine = _engine()
    engine.p2p.gateway = _gateway()
    engine.p2p.dropped_without_gateway = 2
    stats = network.packets_stats(engine)
    assert stats["in"]["identity_cache_count"] == 3
    assert stats["in"]["identity_cache_fails"] == 1
    assert stats["in"]["identity_cache_bytes"] == 900 == stats["in"]["total_bytes"]
    assert set(stats["out"]) == {
        "total_bytes",
        "unknown_bytes",
        "total_packets",
        "unknown_packets",
        "failed_packets",
        "peers",
    }
    assert stats["dropped"] == {"no-gateway": 2}
    assert {"total", "commands", "peers"} <= set(stats)


def test_packets_calls_need_the_gateway() -> None:
    engine = _engine()
    with pytest.raises(Unavailable):
        network.packets_list(engine)
    with pytest.raises(Unavailable):
        network.packets_stats(engine)


@pytest.mark.parametrize(
    ("gateway", "transports", "connector", "expected"),
    [
        (False, False, None, "OFF"),
        (False, False, "CONNECTED", "OFF"),
        (True, False, "CONNECTED", "DISCONNECTED"),
        (True, True, None, "OFF"),
        (True, True, "CONNECTING", "CONNECTING"),
        (True, True, "CONNECTED", "CONNECTED"),
        (True, True, "DISCONNECTED", "DISCONNECTED"),
    ],
)
def test_network_status_carries_p2p_connector_state(
    gateway: bool, transports: bool, connector: str | None, expected: str
) -> None:
    engine = _engine()
    if gateway:
        engine.p2p.gateway = _gateway()
        if transports:
            engine.p2p.gateway.add_transport(FakeTcp())
    if connector is not None:
        engine.p2p.connector = FakeConnector(connector)
    status = network.network_status(engine)
    assert status["p2p_connector_state"] == expected
    assert status["network_connector_state"] == (connector or "OFF")
