"""dht_value_set refuses values that are not strict JSON; reads never fail on one that is stored."""

from __future__ import annotations

import types
from typing import Any

import attrs
import pytest
from twisted.internet import defer

from bitdust.dht import records
from bitdust.dht.errors import RecordError
from bitdust.interface.api import dht, envelope
from bitdust.interface.error_statuses import status_of
from bitdust.services.service_entangled_dht import SERVICE_NAME, EntangledDhtService
from tests.dht.helpers import Net


class FakeServices:
    def __init__(self, service: EntangledDhtService) -> None:
        self.service = service

    def is_on(self, name: str) -> bool:
        return name == SERVICE_NAME

    def get(self, name: str) -> Any:
        return self.service


def engine_of(node: Any) -> Any:
    engine = types.SimpleNamespace(run_blocking=lambda fn, *a, **kw: defer.maybeDeferred(fn, *a, **kw))
    service = EntangledDhtService(engine)
    service.node = node
    engine.services = FakeServices(service)
    return engine


@pytest.fixture
def net() -> Net:
    return Net().build(6)


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        {"x": float("inf")},
        [float("-inf")],
        "NaN-free text",  # a plain string is fine: the control case
    ],
)
def test_value_set_refuses_nan_and_infinity_naming_the_rule(net: Net, value: Any) -> None:
    engine = engine_of(net.nodes[2])
    if isinstance(value, str):
        answer = net.wait(defer.maybeDeferred(dht.dht_value_set, engine, key="k", value=value, expire=60))
        assert answer["write"] == "success"
        return
    with pytest.raises(RecordError) as caught:
        net.wait(defer.maybeDeferred(dht.dht_value_set, engine, key="k", value=value, expire=60))
    assert status_of(caught.value) == 400 and "rule 'json'" in caught.value.message
    assert all(n.store.get(0, "k", net.clock.now) is None for n in net.nodes)


def test_value_set_parses_a_json_string_strictly(net: Net) -> None:
    engine = engine_of(net.nodes[2])
    answer = net.wait(defer.maybeDeferred(dht.dht_value_set, engine, key="k", value='{"x": NaN}', expire=60))
    # not strict JSON, so it is text, stored as text: never a NaN number
    assert answer["value"] == {"type": "skip_validation", "data": '{"x": NaN}'}
    envelope.encode(answer)


def poison(net: Net, key: str) -> list[Any]:
    """Every holder's copy of ``key`` replaced by a NaN, as an older version might have left it."""
    good = records.canonical_json({"type": "skip_validation", "x": 1})
    assert net.wait(net.nodes[1].set_value(key, good, ttl=600)).success
    holders = [n for n in net.nodes if n.store.get(0, key, net.clock.now) is not None]
    for node in holders:
        item = node.store.get(0, key, net.clock.now)
        node.store.put(attrs.evolve(item, value=b'{"type":"skip_validation","x":NaN}'))
    return holders


def test_value_get_of_a_bad_stored_value_is_an_answer_not_an_error(net: Net) -> None:
    holders = poison(net, "k")
    for node in net.nodes:
        answer = net.wait(defer.maybeDeferred(dht.dht_value_get, engine_of(node), key="k"))
        assert answer["read"] == "failed"
        envelope.encode(answer)  # what the REST/WS layer does: it must not fail
    assert holders


def test_db_dump_leaves_a_bad_stored_value_out(net: Net) -> None:
    holders = poison(net, "bad")
    good = records.canonical_json({"type": "skip_validation", "y": 2})
    net.wait(holders[0].set_value("good", good, ttl=600))
    rows = net.wait(defer.maybeDeferred(dht.dht_local_db_dump, engine_of(holders[0])))
    assert [row["key"] for row in rows] == ["good"]
    envelope.encode(rows)
