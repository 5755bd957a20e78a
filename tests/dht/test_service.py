"""service_entangled_dht's own logic: option parsing, layers wanted, the network_status part."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from twisted.internet import defer, task

from bitdust.dht import records
from bitdust.dht.errors import RecordError
from bitdust.main.errors import InvalidInput
from bitdust.main.service_framework.service import BitDustService
from bitdust.services.service_entangled_dht import (
    EntangledDhtService,
    network_status_part,
    parse_known_nodes,
    parse_layers,
)


def test_known_nodes_override_the_seeds() -> None:
    assert parse_known_nodes("") is None
    assert parse_known_nodes("genesis") == []
    assert parse_known_nodes(" 10.0.0.1:14441, example.org:7 ") == [("10.0.0.1", 14441), ("example.org", 7)]
    for bad in ("10.0.0.1", "host:0", "host:x", ":5"):
        with pytest.raises(InvalidInput):
            parse_known_nodes(bad)


def test_layers_are_0_to_9() -> None:
    assert parse_layers(("3", "9")) == {3, 9}
    for bad in (("10",), ("-1",), ("x",)):
        with pytest.raises(InvalidInput):
            parse_layers(bad)


class FakeServices:
    def __init__(self, services: dict[str, tuple[BitDustService, bool]]) -> None:
        self._services = services

    def names(self) -> list[str]:
        return list(self._services)

    def is_on(self, name: str) -> bool:
        return name in self._services and self._services[name][1]

    def get(self, name: str) -> BitDustService:
        return self._services[name][0]


def fake_engine(attached: tuple[str, ...] = ()) -> SimpleNamespace:
    config = {"services/entangled-dht/attached-layers": attached, "personal/nickname": ""}
    engine = SimpleNamespace(config=SimpleNamespace(get=config.get, __contains__=lambda key: True), log=None)
    return engine


def test_wanted_layers_follow_the_services_that_are_on() -> None:
    engine = fake_engine(attached=("5",))
    dht = EntangledDhtService(engine)
    supplier = type("S", (BitDustService,), {"name": "service_supplier", "layers": (3,)})(engine)
    router = type("R", (BitDustService,), {"name": "service_web_socket_router", "layers": (9,)})(engine)
    engine.services = FakeServices(
        {
            "service_entangled_dht": (dht, False),
            "service_supplier": (supplier, True),
            "service_web_socket_router": (router, False),
        }
    )
    assert dht.wanted_layers() == {0, 3, 5}
    engine.services._services["service_web_socket_router"] = (router, True)
    assert dht.wanted_layers() == {0, 3, 5, 9}


def test_network_status_part_says_why_while_the_service_is_off() -> None:
    engine = fake_engine()
    engine.services = FakeServices({"service_entangled_dht": (EntangledDhtService(engine), False)})
    assert network_status_part(engine) == {"active": False, "reason": "service_entangled_dht is not running"}


def test_the_record_validator_is_given_the_raid_ecc_layouts() -> None:
    engine = fake_engine()
    engine.reactor = task.Clock()
    engine.run_blocking = lambda fn, *args: defer.maybeDeferred(fn, *args)
    validator = EntangledDhtService(engine).record_validator()
    # ecc/4x4 is a raid layout with 4 positions: the record gets past the field check to the count.
    record = {
        "type": "suppliers",
        "customer_idurl": "http://id.example.org/alice.xml",
        "publisher_idurl": "http://id.example.org/alice.xml",
        "ecc_map": "ecc/4x4",
        "suppliers": [""],
        "revision": 1,
        "timestamp": 1,
        "signature": "AAAA",
    }
    key = "suppliers:http://id.example.org/alice.xml"
    outcome: list = []
    validator.validate(key, records.canonical_json(record), "suppliers").addBoth(outcome.append)
    assert isinstance(outcome[0].value, RecordError)
    assert (outcome[0].value.rule, outcome[0].value.message) == (
        "content",
        "suppliers record breaks rule 'content': ecc/4x4 needs 4 supplier positions, got 1",
    )
