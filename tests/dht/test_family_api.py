"""suppliers_dht_lookup's answers besides the harness's: no DHT (503), no identity (409), ourselves by default."""

from __future__ import annotations

import types
from typing import Any

import pytest
from twisted.internet import defer

from bitdust.dht.family_record import FamilyRecords
from bitdust.dht.records import canonical_json
from bitdust.interface.api import family
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import Conflict, InvalidInput, NotFound, Unavailable
from tests.dht.family_builders import S
from tests.dht.family_builders import family as family_record
from tests.dht.helpers import ALICE, Net
from tests.interface.test_api_dht_strict import engine_of


class FakeIdentity:
    def __init__(self, idurl: str | None) -> None:
        self.current = None if idurl is None else types.SimpleNamespace(idurl=types.SimpleNamespace(url=idurl))


class FakeCache:
    def resolve(self, idurl: Any) -> Any:
        return idurl


def engine(net: Net, me: str | None) -> Any:
    built = engine_of(net.nodes[2])
    service = built.services.service
    service.families = FamilyRecords(net.nodes[2], built.run_blocking)
    built.local_identity = FakeIdentity(me)
    built.identity_cache = FakeCache()
    return built


def lookup(net: Net, built: Any, **params: Any) -> Any:
    return net.wait(defer.maybeDeferred(family.suppliers_dht_lookup, built, **params))


def test_no_dht_is_a_503() -> None:
    built = types.SimpleNamespace(services=types.SimpleNamespace(is_on=lambda name: False))
    with pytest.raises(Unavailable) as caught:
        family.suppliers_dht_lookup(built)  # type: ignore[arg-type]
    assert status_of(caught.value) == 503


def test_without_an_identity_the_customer_must_be_named(validator) -> None:
    net = Net(validator=validator).build(5)
    with pytest.raises(Conflict) as caught:
        lookup(net, engine(net, None))
    assert status_of(caught.value) == 409


def test_ourselves_by_default_a_404_before_any_record_and_a_400_for_a_bad_id(validator, keys) -> None:
    net = Net(validator=validator).build(5)
    built = engine(net, ALICE)
    with pytest.raises(NotFound) as missing:
        lookup(net, built)
    assert status_of(missing.value) == 404
    for bad in ("alice", "a$alice@host", "http://host/no-xml", "x" * 300):
        with pytest.raises(InvalidInput):
            lookup(net, built, customer_id=bad)
    outcome = net.wait(
        net.nodes[0].set_value(f"suppliers:{ALICE}", canonical_json(family_record(keys, 3)), 0, "suppliers")
    )
    assert outcome.success
    answer = lookup(net, built)
    assert answer["customer_idurl"] == ALICE and answer["revision"] == 3 and answer["suppliers"] == S[:4]
    assert lookup(net, built, customer_id=ALICE) == answer
