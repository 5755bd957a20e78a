"""The protocol's address checks: tokens in answers, ``verify`` for what an unproved address may not get."""

from __future__ import annotations

import random
from typing import Any

from twisted.internet import task

from bitdust.dht import messages
from bitdust.dht.messages import Message
from bitdust.dht.protocol import DhtProtocol
from tests.dht.test_protocol import PEER, PEER_ADDR, FakeTransport, Handler


def make() -> tuple[DhtProtocol, Handler, FakeTransport, task.Clock]:
    clock = task.Clock()
    handler = Handler()
    protocol = DhtProtocol(handler, clock=clock, rng=random.Random(1))
    transport = FakeTransport()
    protocol.makeConnection(transport)  # type: ignore[arg-type]
    return protocol, handler, transport, clock


def request(method: str, args: dict[str, Any], token: bytes = b"", rpc_id: bytes = b"r" * 8) -> bytes:
    message = Message(
        kind="q", layer=0, rpc_id=rpc_id, sender=PEER, attached=True, method=method, args=args, token=token
    )
    return messages.encode(message)


STORE = {"k": "k", "v": b"{}", "t": "skip_validation", "ttl": 60, "p": PEER}


def test_a_store_from_an_unproved_address_is_answered_verify_and_then_served() -> None:
    protocol, handler, transport, _ = make()
    handler.answer = {"ok": True}
    protocol.datagramReceived(request("store", STORE), PEER_ADDR)
    answer = messages.decode(transport.sent[-1][0])
    assert (answer.kind, answer.error) == ("e", "verify") and answer.token
    protocol.datagramReceived(request("store", STORE, token=answer.token, rpc_id=b"s" * 8), PEER_ADDR)
    assert messages.decode(transport.sent[-1][0]).result == {"ok": True}
    # the token was for that address only
    protocol.datagramReceived(request("store", STORE, token=answer.token, rpc_id=b"t" * 8), ("10.0.0.3", 1))
    assert messages.decode(transport.sent[-1][0]).error == "verify"


def test_a_big_answer_to_an_unproved_address_becomes_a_token() -> None:
    protocol, handler, transport, _ = make()
    handler.answer = {"k": "k", "v": b"x" * 8000, "t": "skip_validation", "ttl": 60}
    protocol.datagramReceived(request("find_value", {"k": "k"}), PEER_ADDR)
    answer = messages.decode(transport.sent[-1][0])
    assert answer.error == "verify" and len(transport.sent[-1][0]) < 200
    assert protocol.dropped == {"amplification": 1}
    protocol.datagramReceived(request("find_value", {"k": "k"}, token=answer.token, rpc_id=b"u" * 8), PEER_ADDR)
    assert messages.decode(transport.sent[-1][0]).result["v"] == b"x" * 8000


def test_request_asks_again_with_the_token_a_verify_answer_brought() -> None:
    protocol, _, transport, _ = make()
    results: list[Any] = []
    protocol.request(PEER_ADDR, 0, "store", STORE).addBoth(results.append)
    first = messages.decode(transport.sent[-1][0])
    assert first.token == b""
    refusal = Message(kind="e", layer=0, rpc_id=first.rpc_id, sender=PEER, error="verify", token=b"T" * 8)
    protocol.datagramReceived(messages.encode(refusal), PEER_ADDR)
    second = messages.decode(transport.sent[-1][0])
    assert second.token == b"T" * 8 and second.rpc_id != first.rpc_id and results == []
    ok = Message(kind="r", layer=0, rpc_id=second.rpc_id, sender=PEER, result={"ok": True})
    protocol.datagramReceived(messages.encode(ok), PEER_ADDR)
    assert results[0].result == {"ok": True}
    assert protocol.guard.is_verified(PEER_ADDR)
