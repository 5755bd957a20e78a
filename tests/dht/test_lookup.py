"""The iterative lookup alone, with a scripted network: every answer chosen by the test."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from bitdust.dht.errors import RecordError, RpcTimeout
from bitdust.dht.lookup import Lookup
from bitdust.dht.messages import Contact, Message
from bitdust.dht.node_id import from_int, key_hash
from bitdust.dht.records import RecordValidator, canonical_json

OWN = from_int(1 << 150)


def contact(number: int) -> Contact:
    return Contact(from_int(number), f"10.0.0.{number % 250 + 1}", 1000 + number)


class Script:
    """``answers[node number]`` -> a result dict, an exception, or a Deferred left pending."""

    def __init__(self, answers: dict[int, Any]) -> None:
        self.answers = answers
        self.asked: list[tuple[int, str]] = []

    def rpc(self, target: Contact, method: str, args: dict[str, Any]) -> defer.Deferred[Message]:
        number = int.from_bytes(target.node_id, "big")
        self.asked.append((number, method))
        answer = self.answers.get(number, RpcTimeout("silent"))
        if isinstance(answer, defer.Deferred):
            return answer
        if isinstance(answer, Exception):
            return defer.fail(answer)
        return defer.succeed(
            Message(kind="r", layer=0, rpc_id=b"x" * 8, sender=target.node_id, attached=True, result=answer)
        )


def wire(*numbers: int) -> list[list[Any]]:
    return [contact(n).to_wire() for n in numbers]


def test_find_node_walks_towards_the_target_and_counts_hops() -> None:
    script = Script({10: {"c": wire(20, 21)}, 20: {"c": wire(30)}, 21: {"c": []}, 30: {"c": wire(10)}})
    failures: list = []
    lookup = Lookup(
        own_id=OWN,
        target=from_int(31),
        start=[contact(10)],
        rpc=script.rpc,
        k=3,
        on_failure=lambda c, reason: failures.append(reason),
    )
    result = lookup.run().result
    assert [int.from_bytes(c.node_id, "big") for c in result.closest] == [30, 21, 20]  # XOR: 31^21=10 < 31^20=11
    assert result.hops == 3  # 10 (start) -> 20 -> 30
    assert failures == []


def test_timeouts_are_reported_and_skipped() -> None:
    script = Script({10: {"c": wire(11, 12)}, 12: {"c": []}})
    failures: list = []
    lookup = Lookup(
        own_id=OWN, target=from_int(11), start=[contact(10)], rpc=script.rpc, on_failure=lambda c, r: failures.append(r)
    )
    result = lookup.run().result
    assert [int.from_bytes(c.node_id, "big") for c in result.closest] == [10, 12]
    assert failures == ["timeout"] and result.failed == 1


def test_at_most_alpha_requests_are_in_flight() -> None:
    pending = {n: defer.Deferred() for n in range(10, 20)}
    script = Script(pending)
    lookup = Lookup(
        own_id=OWN, target=from_int(0), start=[contact(n) for n in range(10, 20)], rpc=script.rpc, alpha=3, k=8
    )
    done = lookup.run()
    assert len(script.asked) == 3
    for number in (10, 11, 12):
        pending[number].callback(Message(kind="r", layer=0, rpc_id=b"x" * 8, sender=from_int(number), result={"c": []}))
    assert len(script.asked) == 6 and not done.called


def test_a_value_for_another_key_is_a_lie_and_the_honest_value_wins() -> None:
    good = canonical_json({"type": "skip_validation", "v": "good"})
    script = Script(
        {
            10: {"k": "other", "v": canonical_json({"type": "skip_validation"}), "t": "skip_validation", "ttl": 9},
            11: {"c": wire(12)},
            12: {"k": "wanted", "v": good, "t": "skip_validation", "ttl": 9},
        }
    )
    failures: list = []
    lookup = Lookup(
        own_id=OWN,
        target=key_hash("wanted"),
        start=[contact(10), contact(11)],
        rpc=script.rpc,
        key="wanted",
        record_type="skip_validation",
        validate=RecordValidator().validate,
        on_failure=lambda c, r: failures.append(r),
    )
    result = lookup.run().result
    assert result.value.record == {"type": "skip_validation", "v": "good"}
    assert result.value.holder == contact(12) and result.hops == 2
    assert failures == ["lie"] and any("not asked about" in e for e in result.errors)


def test_invalid_values_are_refused_and_the_lookup_goes_on() -> None:
    def validate(key: str, value: bytes, record_type: str) -> defer.Deferred[dict]:
        if b"bad" in value:
            return defer.fail(RecordError(record_type, "signature", "forged"))
        return defer.succeed({"type": record_type, "ok": True})

    script = Script(
        {
            10: {"k": "x", "v": b'{"bad":1}', "t": "nickname", "ttl": 9},
            11: {"k": "x", "v": b'{"x":1}', "t": "relation", "ttl": 9},
            12: {"k": "x", "v": b'{"good":1}', "t": "nickname", "ttl": 9},
        }
    )
    lookup = Lookup(
        own_id=OWN,
        target=key_hash("x"),
        start=[contact(10), contact(11), contact(12)],
        rpc=script.rpc,
        key="x",
        record_type="nickname",
        validate=validate,
        alpha=1,
    )
    result = lookup.run().result
    assert result.value.record == {"type": "nickname", "ok": True} and result.refused_values == 2


def test_versioned_values_let_answers_in_flight_compete() -> None:
    later = defer.Deferred()
    script = Script(
        {
            10: {"k": "s", "v": b'{"revision":1}', "t": "suppliers", "ttl": 9},
            11: later,
            12: {"c": []},
        }
    )

    def validate(key: str, value: bytes, record_type: str) -> defer.Deferred[dict]:
        import json

        return defer.succeed(json.loads(value))

    lookup = Lookup(
        own_id=OWN,
        target=key_hash("s"),
        start=[contact(10), contact(11), contact(12)],
        rpc=script.rpc,
        key="s",
        record_type="suppliers",
        validate=validate,
        revision=lambda r: r["revision"],
    )
    done = lookup.run()
    assert not done.called  # 11 has not answered yet
    later.callback(
        Message(
            kind="r",
            layer=0,
            rpc_id=b"x" * 8,
            sender=from_int(11),
            result={"k": "s", "v": b'{"revision":3}', "t": "suppliers", "ttl": 9},
        )
    )
    assert done.result.value.revision == 3
