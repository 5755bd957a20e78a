"""A whole network in this process: nodes driven through their API, as a client drives them."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor

from bitdust.sandbox.ports import port_is_free
from bitdust.sandbox.roles import role
from bitdust.testing.network import ApiCallFailed, Network, NetworkNode, poll, start_network

WAIT = 30.0


def udp_port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ports_by_kind(net: Network) -> tuple[list[int], list[int]]:
    """(TCP ports, UDP ports) of every member: the DHT listens on UDP, everything else on TCP."""
    tcp, udp = [], []
    for member in net.members:
        tcp += [member.record.rest_port, member.record.ws_port]
        for name in role(member.role).extra_ports:
            (udp if name == "dht_port" else tcp).append(int(member.record.extra[name]))
    return tcp, udp


def joined(node: NetworkNode) -> defer.Deferred[bool]:
    """The node's DHT has joined through the seed."""

    def check(answer: tuple[int, dict[str, Any]]) -> bool:
        code, body = answer
        dht = body.get("result", {}).get("dht", {}) if code == 200 else {}
        return bool(dht.get("active")) and dht.get("bootstrap", {}).get("state") == "joined"

    return node.api("network_status", dht=True).addCallback(check)


@pytest_twisted.inlineCallbacks
def test_node_1_pings_node_2_and_3_through_the_api(network: Network) -> None:
    first, second, third = network.nodes
    assert [n.name for n in network.nodes] == ["node-1", "node-2", "node-3"]
    assert [n.name for n in network.id_servers] == ["id-a", "id-b"] and network.dht_seeds[0].name == "dht-1"
    for peer in (second, third):
        code, body = yield first.api("user_ping", user_id=peer.global_id, timeout=10)
        assert code == 200 and body["status"] == "OK", body
        assert body["result"]["global_id"] == peer.global_id and body["result"]["contact_state"] == "CONNECTED"
        assert body["message"] == "connected"
    code, body = yield first.api("user_ping", user_id=second.global_id, timeout="soon")
    assert code == 400 and body["status"] == "ERROR" and "timeout" in body["errors"][0]
    with pytest.raises(ApiCallFailed) as failed:
        yield first.call("no_such_method")
    assert failed.value.code == 404


@pytest_twisted.inlineCallbacks
def test_a_dht_value_set_on_one_node_is_read_on_another(network: Network) -> None:
    first, second, _third = network.nodes
    yield poll(lambda: joined(first), timeout=WAIT, what="node-1 to join the DHT")
    yield poll(lambda: joined(second), timeout=WAIT, what="node-2 to join the DHT")

    def written() -> defer.Deferred[Any]:
        d = first.call("dht_value_set", key="harness-hello", value={"text": "from node-1"}, expire=600)
        return d.addCallback(lambda r: r if r["write"] == "success" and r["stored_on"] >= 1 else None)

    yield poll(written, timeout=WAIT, what="node-1 to store the value")

    def read() -> defer.Deferred[Any]:
        d = second.call("dht_value_get", key="harness-hello")
        return d.addCallback(lambda r: r if r["read"] == "success" else None)

    found = yield poll(read, timeout=WAIT, what="node-2 to read the value")
    assert found["value"] == {"text": "from node-1", "type": "skip_validation"}


@pytest_twisted.inlineCallbacks
def test_a_node_stopped_and_restarted_inside_the_network(network: Network) -> None:
    first, second, _third = network.nodes
    who = second.global_id
    yield first.call("user_ping", user_id=who, timeout=10)
    yield second.stop()
    assert not second.running and port_is_free(second.record.rest_port)
    code, body = yield first.api("user_ping", user_id=who, timeout=1, retries=0)
    assert code in (502, 504) and body["status"] == "ERROR", body
    yield second.start()
    assert second.global_id == who  # the identity came back from its home folder
    pinged = yield poll(
        lambda: first.api("user_ping", user_id=who, timeout=5).addCallback(lambda a: a[0] == 200 and a[1]),
        timeout=WAIT,
        what="node-2 to answer pings again",
    )
    assert pinged["result"]["contact_state"] == "CONNECTED"
    back = yield second.call("user_ping", user_id=first.global_id, timeout=10)
    assert back["global_id"] == first.global_id


@pytest_twisted.inlineCallbacks
def test_teardown_closes_every_port_and_timer_and_can_run_twice(tmp_path: Path) -> None:
    readers, writers = set(reactor.getReaders()), set(reactor.getWriters())
    for run in (1, 2):
        calls = set(reactor.getDelayedCalls())
        net = yield start_network(tmp_path / f"run-{run}", nodes=2, id_servers=1, dht_seeds=1)
        tcp, udp = ports_by_kind(net)
        assert not any(map(port_is_free, tcp)) and not any(map(udp_port_is_free, udp))
        yield net.stop()
        assert not [m for m in net.members if m.running]
        assert set(reactor.getReaders()) <= readers and set(reactor.getWriters()) <= writers
        left = [c for c in reactor.getDelayedCalls() if c not in calls and c.active()]
        assert left == [], f"timers left after run {run}: {left}"
        assert reactor.getThreadPool().working == []  # no blocking work of a stopped engine still running
        assert all(map(port_is_free, tcp)) and all(map(udp_port_is_free, udp))


@pytest_twisted.inlineCallbacks
def test_two_networks_in_one_session_do_not_interfere(tmp_path: Path) -> None:
    one = yield start_network(tmp_path / "one", nodes=2, id_servers=1, dht_seeds=1)
    try:
        two = yield start_network(tmp_path / "two", nodes=2, id_servers=1, dht_seeds=1)
        try:
            assert not set(one.ports()) & set(two.ports())
            assert one.nodes[0].name == two.nodes[0].name and one.nodes[0].idurl != two.nodes[0].idurl
            for net in (one, two):
                for node in net.nodes:
                    yield poll(lambda node=node: joined(node), timeout=WAIT, what=f"{node.name} to join")

            def written() -> defer.Deferred[Any]:
                d = one.nodes[0].call("dht_value_set", key="only-in-one", value={"n": 1}, expire=600)
                return d.addCallback(lambda r: r["write"] == "success")

            yield poll(written, timeout=WAIT, what="network one to store the value")
            read = yield one.nodes[1].call("dht_value_get", key="only-in-one")
            assert read["read"] == "success"
            other = yield two.nodes[1].call("dht_value_get", key="only-in-one")
            assert other["read"] == "failed"
        finally:
            yield two.stop()
        # the first network keeps working after the second is gone
        pong = yield one.nodes[0].call("user_ping", user_id=one.nodes[1].global_id, timeout=10)
        assert pong["global_id"] == one.nodes[1].global_id
    finally:
        yield one.stop()


@pytest_twisted.inlineCallbacks
def test_a_failed_start_stops_what_it_started(tmp_path: Path) -> None:
    readers = set(reactor.getReaders())
    with pytest.raises(ApiCallFailed) as failed:
        # identities need min-servers identity servers; one cannot give two
        yield start_network(
            tmp_path / "bad",
            nodes=1,
            id_servers=1,
            dht_seeds=0,
            options={"services/identity-propagate/min-servers": "2"},
        )
    assert failed.value.method == "identity_create" and failed.value.code == 400
    assert set(reactor.getReaders()) <= readers


@pytest_twisted.inlineCallbacks
def test_api_answers_as_the_rest_port_does(network: Network) -> None:
    node = network.nodes[0]
    readers = set(reactor.getReaders())
    in_process = yield node.api("identity_get")
    over_http = yield node.rest("GET", "identity/get/v1")
    assert in_process[0] == over_http[0] == 200
    assert in_process[1]["result"] == over_http[1]["result"] and in_process[1]["result"]["global_id"] == node.global_id
    bad_process = yield node.api("config_set", key="logs/debug-level", value="abc")
    bad_http = yield node.rest("POST", "config/set/v1", {"key": "logs/debug-level", "value": "abc"})
    assert bad_process[0] == bad_http[0] == 400 and bad_process[1]["errors"] == bad_http[1]["errors"]
    yield poll(lambda: set(reactor.getReaders()) <= readers, timeout=WAIT, what="the HTTP client's socket to close")
