"""Only strict JSON enters the DHT: from the API, from peers, and never breaks a read."""

from __future__ import annotations

import attrs
import pytest

from bitdust.dht import records
from bitdust.dht.errors import RecordError, RpcError
from bitdust.dht.simulation import sim_address
from bitdust.main import strict_json
from tests.dht.helpers import Net

# What Python's json module writes or reads without complaint and no strict parser accepts.
NOT_STRICT = [
    b'{"type":"skip_validation","x":NaN}',
    b'{"type":"skip_validation","x":Infinity}',
    b'{"type":"skip_validation","x":-Infinity}',
    b'{"type":"skip_validation","x":1e400}',
    b'{"type":"skip_validation","x":"\\ud800"}',
]


@pytest.mark.parametrize("data", NOT_STRICT)
def test_decode_record_refuses_values_that_are_not_strict_json(data: bytes) -> None:
    with pytest.raises(RecordError) as caught:
        records.decode_record(data, "skip_validation")
    assert caught.value.rule == "json"
    assert records.value_problem(data, "skip_validation") == caught.value.message


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), "\ud800"])
def test_encode_record_names_the_json_rule(bad: object) -> None:
    with pytest.raises(RecordError) as caught:
        records.encode_record({"type": "skip_validation", "data": bad})
    assert caught.value.rule == "json" and "rule 'json'" in caught.value.message


def test_strict_values_still_round_trip() -> None:
    record = {"type": "skip_validation", "x": 1.5, "y": [1e300, -0.0], "z": "\u00e9\U0001f600"}
    assert records.decode_record(records.encode_record(record), "skip_validation") == record
    assert strict_json.loads('"\\ud83d\\ude00"') == "\U0001f600"  # a proper surrogate pair is fine


@pytest.mark.parametrize("data", NOT_STRICT)
def test_a_node_refuses_to_publish_such_a_value(data: bytes) -> None:
    net = Net().build(4)
    failure: list = []
    net.nodes[1].set_value("k", data, ttl=60).addErrback(failure.append)
    net.settle(5)
    assert failure[0].check(RecordError) and failure[0].value.rule == "json"
    assert all(n.store.get(0, "k", net.clock.now) is None for n in net.nodes)


@pytest.mark.parametrize("data", NOT_STRICT)
def test_a_store_from_a_peer_carrying_such_a_value_is_refused(data: bytes) -> None:
    net = Net().build(3)
    args = {"k": "k", "v": data, "t": "skip_validation", "ttl": 60, "p": net.nodes[1].node_id}
    errors: list = []
    net.nodes[1].protocol.request(sim_address(0), 0, "store", args).addErrback(errors.append)
    net.settle(5)
    assert errors[0].check(RpcError) and errors[0].value.code == "record:json"
    assert net.nodes[0].store.get(0, "k", net.clock.now) is None


def test_a_bad_value_held_by_nodes_is_ignored_on_read_everywhere() -> None:
    """As if written by an older version: every holder's copy holds a NaN."""
    net = Net().build(10)
    good = records.canonical_json({"type": "skip_validation", "x": 1})
    assert net.wait(net.nodes[1].set_value("k", good, ttl=600)).success
    holders = [n for n in net.nodes if n.store.get(0, "k", net.clock.now) is not None]
    for node in holders:
        item = node.store.get(0, "k", net.clock.now)
        node.store.put(attrs.evolve(item, value=NOT_STRICT[0]))
    for node in net.nodes:
        result = net.wait(node.get_value("k"))
        assert result.value is None  # nobody returns it: not the holders, not the others
        if node not in holders:
            assert result.refused_values >= 1
            assert any("rule 'json'" in error for error in result.errors)
    assert holders[0].readable_record(holders[0].store.get(0, "k", net.clock.now)) is None
