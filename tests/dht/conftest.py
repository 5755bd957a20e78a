"""Fixtures shared by the DHT tests: two users' keys and a record validator that knows them."""

from __future__ import annotations

import pytest
from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.raid.eccmap import supplier_positions
from tests.dht.helpers import ALICE, BOB
from tests.dht.record_builders import NOW


@pytest.fixture(scope="module")
def keys() -> dict[str, RsaKey]:
    return {ALICE: RsaKey.generate(1024), BOB: RsaKey.generate(1024)}


@pytest.fixture
def validator(keys: dict[str, RsaKey]) -> records.RecordValidator:
    def public_key(idurl: str) -> defer.Deferred[RsaKey]:
        if idurl not in keys:
            return defer.fail(LookupError(f"no identity at {idurl}"))
        return defer.succeed(keys[idurl].public_key())

    return records.RecordValidator(public_key, clock=lambda: NOW, ecc_layouts=supplier_positions())
