"""Publishing and reading family records over a small DHT: a reader never gets a forged, old or broken one."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet import defer

from bitdust.dht.family_keeper import FamilyKeeper
from bitdust.dht.family_record import FAMILY_TYPE, FamilyRecords, family_key
from bitdust.dht.store import StoredValue
from bitdust.main.errors import Conflict, InvalidInput
from tests.dht.family_builders import S, family, value
from tests.dht.helpers import ALICE, BOB, Net

KEY = family_key(ALICE)


def inline(fn, *args):  # type: ignore[no-untyped-def]
    return defer.maybeDeferred(fn, *args)


def plant(net: Net, record: dict, revision: int) -> None:
    """Every node holds ``record`` as if it had been stored long ago, past any check (a hostile or old store)."""
    for node in net.nodes:
        node.store.put(StoredValue(0, KEY, value(record), FAMILY_TYPE, 0.0, 10**9, b"x" * 20, revision=revision))


@pytest.fixture
def net(validator) -> Net:
    return Net(validator=validator).build(8)


def test_a_published_family_is_found_by_another_node(net, keys) -> None:
    customer = FamilyRecords(net.nodes[1], inline)
    outcome = net.wait(customer.publish(ALICE, "ecc/4x4", S[:4], 1, keys[ALICE]))
    assert outcome.success and outcome.stored_on
    found = net.wait(FamilyRecords(net.nodes[6], inline).lookup(ALICE))
    assert found.suppliers == tuple(S[:4]) and found.revision == 1 and found.customer_idurl == ALICE
    assert found.to_json() == {
        "suppliers": S[:4],
        "ecc_map": "ecc/4x4",
        "customer_idurl": ALICE,
        "revision": 1,
        "publisher_idurl": ALICE,
        "timestamp": found.timestamp,
    }


def test_a_customer_never_publishes_a_revision_that_does_not_grow(net, keys) -> None:
    customer = FamilyRecords(net.nodes[1], inline)
    net.wait(customer.publish(ALICE, "ecc/4x4", S[:4], 2, keys[ALICE]))
    with pytest.raises(Conflict, match="not above the known 2"):
        net.wait(customer.publish(ALICE, "ecc/4x4", S[1:5], 2, keys[ALICE]))


def test_a_forged_record_is_never_returned(net, keys) -> None:
    plant(net, family(keys, 9, signer=BOB), 9)
    reader = FamilyRecords(net.nodes[5], inline)
    assert net.wait(reader.lookup(ALICE)) is None


@pytest.mark.parametrize(
    "changes",
    [{"suppliers": [S[0], S[0], S[2], S[3]]}, {"suppliers": [S[0], ALICE, S[2], S[3]]}, {"revision": "7"}],
)
def test_a_malformed_record_is_never_returned(net, keys, changes) -> None:
    plant(net, family(keys, 7, changes=changes), 7)
    assert net.wait(FamilyRecords(net.nodes[5], inline).lookup(ALICE)) is None


def test_a_replay_after_a_newer_record_is_refused_even_when_every_node_serves_it(net, keys) -> None:
    reader = FamilyRecords(net.nodes[5], inline)
    newer = family(keys, 5, suppliers=[S[4], S[1], S[2], S[3]])
    plant(net, newer, 5)
    assert net.wait(reader.lookup(ALICE)).revision == 5
    plant(net, family(keys, 4), 4)  # the nodes were rolled back to an old, validly signed record
    found = net.wait(reader.lookup(ALICE))
    assert found.revision == 5 and found.suppliers[0] == S[4]
    assert reader.refused == 1


def test_other_content_at_a_seen_revision_is_refused(net, keys) -> None:
    reader = FamilyRecords(net.nodes[5], inline)
    plant(net, family(keys, 5), 5)
    assert net.wait(reader.lookup(ALICE)).suppliers == tuple(S[:4])
    plant(net, family(keys, 5, suppliers=[S[6], S[1], S[2], S[3]]), 5)
    assert net.wait(reader.lookup(ALICE)).suppliers == tuple(S[:4]) and reader.refused == 1


def test_the_keeper_checks_persists_and_republishes(net, keys, tmp_path: Path, validator) -> None:
    def keeper() -> FamilyKeeper:
        return FamilyKeeper(tmp_path / "families", validator=validator, dht=lambda: net.nodes[3], run_blocking=inline)

    first = keeper()
    kept = net.wait(first.remember(family(keys, 2)))
    assert kept.revision == 2 and first.customers() == [ALICE]
    with pytest.raises(InvalidInput, match="'signature'"):
        net.wait(first.remember(family(keys, 3, signer=BOB)))
    with pytest.raises(InvalidInput, match="'content'"):
        net.wait(first.remember(family(keys, 3, changes={"suppliers": [S[0], S[0], S[2], S[3]]})))
    with pytest.raises(Conflict, match="above 1"):
        net.wait(first.remember(family(keys, 1)))
    with pytest.raises(Conflict, match="says something else"):
        net.wait(first.remember(family(keys, 2, suppliers=S[4:8])))
    with pytest.raises(InvalidInput):
        net.wait(first.remember(["not", "a", "record"]))
    with pytest.raises(InvalidInput, match=f"not the one of {BOB}"):
        net.wait(first.remember(family(keys, 3), customer_idurl=BOB))
    assert net.wait(first.remember(family(keys, 2), customer_idurl=ALICE)).revision == 2
    assert first.kept(ALICE).revision == 2

    second = keeper()  # a restarted supplier reads its copies back
    assert net.wait(second.load()) == 1 and second.kept(ALICE).suppliers == tuple(S[:4])
    outcomes = net.wait(second.republish())
    assert len(outcomes) == 1 and outcomes[0].success
    assert net.wait(FamilyRecords(net.nodes[7], inline).lookup(ALICE)).revision == 2

    net.wait(second.forget(ALICE))
    assert second.customers() == [] and net.wait(keeper().load()) == 0


def test_a_kept_copy_that_no_longer_passes_is_dropped_on_load(keys, tmp_path: Path, validator) -> None:
    folder = tmp_path / "families"
    folder.mkdir()
    (folder / "bad.json").write_bytes(value(family(keys, 1, signer=BOB)))
    (folder / "junk.json").write_bytes(b"{not json")
    keeper = FamilyKeeper(folder, validator=validator, dht=lambda: None, run_blocking=inline)
    loaded: list = []
    keeper.load().addBoth(loaded.append)
    assert loaded == [0]
    failed: list = []
    keeper.republish().addErrback(failed.append)
    assert failed and "not running" in failed[0].getErrorMessage()
