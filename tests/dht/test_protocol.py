from __future__ import annotations

import random
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.dht import messages
from bitdust.dht.errors import RpcError, RpcTimeout
from bitdust.dht.messages import Message
from bitdust.dht.protocol import DhtProtocol

OWN = b"o" * 20
PEER = b"p" * 20
PEER_ADDR = ("10.0.0.2", 14441)


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, Any]] = []

    def write(self, data: bytes, addr: Any) -> None:
        self.sent.append((data, addr))


class Handler:
    node_id = OWN

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self.answer: Any = {}

    def own_flags(self, layer: int) -> tuple[bool, str]:
        return (layer == 0, "http://h/me.xml")

    def handle_request(self, message: Message, address: Any) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def message_seen(self, message: Message, address: Any) -> None:
        self.seen.append(message)


@pytest.fixture
def setup() -> tuple[DhtProtocol, Handler, FakeTransport, task.Clock]:
    clock = task.Clock()
    handler = Handler()
    protocol = DhtProtocol(handler, clock=clock, rng=random.Random(1), rpc_timeout=5.0, rate_limit=10, rate_burst=20)
    transport = FakeTransport()
    protocol.makeConnection(transport)  # type: ignore[arg-type]
    return protocol, handler, transport, clock


def ping(rpc_id: bytes = b"i" * 8, sender: bytes = PEER, layer: int = 0) -> bytes:
    return messages.encode(Message(kind="q", layer=layer, rpc_id=rpc_id, sender=sender, attached=True, method="ping"))


def test_a_request_is_answered_with_its_rpc_id(setup) -> None:
    protocol, handler, transport, _ = setup
    handler.answer = {"hello": 1}
    protocol.datagramReceived(ping(), PEER_ADDR)
    ((data, addr),) = transport.sent
    answer = messages.decode(data)
    assert addr == PEER_ADDR and answer.kind == "r" and answer.rpc_id == b"i" * 8 and answer.result == {"hello": 1}
    assert answer.attached and answer.idurl == "http://h/me.xml"
    assert protocol.counters(0).packets_received == 1 and protocol.counters(0).packets_sent == 1


def test_handler_errors_become_error_answers_never_crashes(setup) -> None:
    protocol, handler, transport, _ = setup
    handler.answer = RpcError("layer-inactive", "not here")
    protocol.datagramReceived(ping(b"a" * 8), PEER_ADDR)
    handler.answer = ZeroDivisionError("bug")
    protocol.datagramReceived(ping(b"b" * 8), PEER_ADDR)
    first, second = (messages.decode(d) for d, _ in transport.sent)
    assert (first.kind, first.error) == ("e", "layer-inactive")
    assert (second.kind, second.error) == ("e", "internal")


@pytest.mark.parametrize(
    ("junk", "reason"),
    [(b"", "malformed"), (b"\xff" * 50, "malformed"), (b"x" * (messages.MAX_DATAGRAM + 10), "too-big")],
)
def test_junk_is_dropped_and_counted(setup, junk: bytes, reason: str) -> None:
    protocol, handler, transport, _ = setup
    protocol.datagramReceived(junk, PEER_ADDR)
    assert transport.sent == [] and handler.seen == []
    assert protocol.dropped == {reason: 1}


def test_messages_claiming_our_own_id_are_dropped(setup) -> None:
    protocol, _, transport, _ = setup
    protocol.datagramReceived(ping(sender=OWN), PEER_ADDR)
    assert transport.sent == [] and protocol.dropped == {"own-id": 1}


def test_rpc_answers_resolve_requests_and_unknown_ids_are_dropped(setup) -> None:
    protocol, handler, transport, _ = setup
    d = protocol.request(PEER_ADDR, 0, "find_node", {"n": b"t" * 20})
    request = messages.decode(transport.sent[0][0])
    assert request.method == "find_node" and request.attached
    stray = Message(kind="r", layer=0, rpc_id=b"z" * 8, sender=PEER, result={})
    protocol.datagramReceived(messages.encode(stray), PEER_ADDR)
    other_host = Message(kind="r", layer=0, rpc_id=request.rpc_id, sender=PEER, result={"c": []})
    protocol.datagramReceived(messages.encode(other_host), ("10.9.9.9", 14441))
    other_layer = Message(kind="r", layer=3, rpc_id=request.rpc_id, sender=PEER, result={"c": []})
    protocol.datagramReceived(messages.encode(other_layer), PEER_ADDR)
    assert not d.called
    assert protocol.dropped == {"unknown-rpc": 1, "rpc-mismatch": 2}
    real = Message(kind="r", layer=0, rpc_id=request.rpc_id, sender=PEER, result={"c": []})
    protocol.datagramReceived(messages.encode(real), PEER_ADDR)
    assert d.result.result == {"c": []}
    protocol.datagramReceived(messages.encode(real), PEER_ADDR)  # a replay is an unknown id now
    assert protocol.dropped["unknown-rpc"] == 2
    assert protocol.counters(0).rpc_calls == 1 and protocol.counters(0).rpc_responses == 1


def test_remote_errors_and_timeouts_fail_the_request(setup) -> None:
    protocol, _, transport, clock = setup
    refused = protocol.request(PEER_ADDR, 0, "ping", {})
    rpc_id = messages.decode(transport.sent[0][0]).rpc_id
    protocol.datagramReceived(
        messages.encode(Message(kind="e", layer=0, rpc_id=rpc_id, sender=PEER, error="record:key", detail="no")),
        PEER_ADDR,
    )
    failures: list = []
    refused.addErrback(failures.append)
    assert failures[0].check(RpcError) and failures[0].value.code == "record:key"
    silent = protocol.request(PEER_ADDR, 0, "ping", {})
    silent.addErrback(failures.append)
    clock.advance(4.9)
    assert len(failures) == 1
    clock.advance(0.2)
    assert failures[1].check(RpcTimeout)


def test_a_flood_from_one_address_is_rate_limited_but_others_get_through(setup) -> None:
    protocol, _, transport, clock = setup
    for number in range(100):
        protocol.datagramReceived(ping(number.to_bytes(8, "big")), PEER_ADDR)
    assert len(transport.sent) == 20 and protocol.dropped["rate-limited"] == 80
    protocol.datagramReceived(ping(b"q" * 8), ("10.0.0.3", 1))
    assert len(transport.sent) == 21
    clock.advance(1.0)  # 10 tokens per second come back
    for number in range(15):
        protocol.datagramReceived(ping((1000 + number).to_bytes(8, "big")), PEER_ADDR)
    assert len(transport.sent) == 31


def test_deferred_answers_are_sent_when_ready(setup) -> None:
    protocol, handler, transport, _ = setup
    handler.answer = defer.Deferred()
    protocol.datagramReceived(ping(), PEER_ADDR)
    assert transport.sent == []
    handler.answer.callback({"ok": True})
    assert messages.decode(transport.sent[0][0]).result == {"ok": True}


def test_cancel_all_fails_pending_requests(setup) -> None:
    protocol, _, _, clock = setup
    d = protocol.request(PEER_ADDR, 0, "ping", {})
    failures: list = []
    d.addErrback(failures.append)
    protocol.cancel_all()
    assert failures[0].check(RpcTimeout)
    assert clock.getDelayedCalls() == []
