"""Issue 11 point 8 mounted in-process: registration floods against the identity server's Site.

Each test posts what an attacker would (many names from one key, many keys from one address, more
than the server may hold, many at once) and checks that the limits hold, that nothing past them is
written or kept in memory, and that honest users from other addresses still register and are served.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.crypt.rsa_key import RsaKey
from bitdust.services.service_identity_server import IdentityServerService
from bitdust.userid.identity import Identity
from bitdust.userid.identity_quotas import (
    DEFAULT_MAX_IDENTITIES,
    DEFAULT_MAX_IN_FLIGHT_PER_ADDRESS,
    DEFAULT_MAX_PER_KEY,
    IdentityServerLimits,
)
from bitdust.userid.identity_server import IdentityStore
from tests.userid.helpers import LogRecorder, QueuedBlocking, make_identity
from tests.userid.test_identity_server import _site, inline, post, request

ATTACKER = "127.0.0.66"


@functools.cache
def _keys(count: int) -> tuple[RsaKey, ...]:
    """Throwaway keys, made once per session (512 bits would do for the server; 1024 keeps OAEP happy)."""
    return tuple(RsaKey.generate(1024) for _ in range(count))


def _names(store: IdentityStore, folder: Path) -> list[str]:
    on_disk = sorted(path.name[:-4] for path in folder.glob("*.xml")) if folder.is_dir() else []
    assert on_disk == store.names()  # the index and the folder agree
    return on_disk


def _honest_users_still_register(site: Any, count: int = 3, start: int = 0) -> None:
    for index, key in enumerate(_keys(count + start)[start:]):
        name = f"honest{start + index}"
        response = post(site, make_identity(key, name), f"/{name}.xml", address=f"127.0.0.{10 + index}").result()
        assert response.code == 200, response.json()
        assert Identity.from_xml(request(site, "GET", f"/{name}.xml").result().body).name == name


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


@pytest.fixture
def rec() -> LogRecorder:
    return LogRecorder()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "identityserver"


@pytest.fixture
def store(folder: Path, rec: LogRecorder) -> IdentityStore:
    return IdentityStore(folder, log=rec.log)


def test_one_key_posting_500_names_gets_its_quota_and_no_more(store, folder, clock, rec, key_a: RsaKey) -> None:
    site = _site(store, clock, rec)
    codes = [
        post(site, make_identity(key_a, f"flood{index:03d}"), f"/flood{index:03d}.xml", address=ATTACKER).result()
        for index in range(500)
    ]
    assert [c.code for c in codes].count(200) == DEFAULT_MAX_PER_KEY
    refused = codes[DEFAULT_MAX_PER_KEY]
    assert refused.code == 403
    assert refused.json() == {
        "status": "ERROR",
        "errors": [f"this public key already holds {DEFAULT_MAX_PER_KEY} identities here, the most one key may"],
    }
    assert {c.code for c in codes[DEFAULT_MAX_PER_KEY:]} == {403}
    assert _names(store, folder) == ["flood000", "flood001", "flood002"]
    # the key still updates what it holds
    assert (
        post(site, make_identity(key_a, "flood001", revision=2), "/flood001.xml", address=ATTACKER).result().code == 200
    )
    _honest_users_still_register(site)


def test_a_concurrent_flood_from_one_key_cannot_overshoot(store, folder, clock, rec, key_a: RsaKey) -> None:
    """All 500 at once: at most 16 are even parsed, and the reservations keep the key to its quota."""
    blocking = QueuedBlocking()
    site = _site(store, clock, rec, run_blocking=blocking)
    calls = [
        post(site, make_identity(key_a, f"flood{index:03d}"), f"/flood{index:03d}.xml", address=ATTACKER)
        for index in range(500)
    ]
    waiting = [call for call in calls if call.response() is None]
    assert len(waiting) == DEFAULT_MAX_IN_FLIGHT_PER_ADDRESS == len(blocking.calls)  # only these are parsed
    busy = [call.result() for call in calls if call.response() is not None]
    assert {r.code for r in busy} == {429}
    assert "registrations from your address are already under way" in busy[0].json()["errors"][0]
    blocking.run_all()
    codes = [call.result().code for call in waiting]
    assert codes.count(200) == DEFAULT_MAX_PER_KEY and set(codes) == {200, 403}
    assert len(_names(store, folder)) == DEFAULT_MAX_PER_KEY
    quotas = site.resource.quotas
    assert quotas.in_flight() == 0 and not quotas._reserved
    honest = post(site, make_identity(_keys(1)[0], "honest0"), "/honest0.xml", address="127.0.0.10")
    blocking.run_all()
    assert honest.result().code == 200


def test_many_keys_from_one_address_are_limited_per_hour(store, folder, clock, rec) -> None:
    site = _site(store, clock, rec, limits=IdentityServerLimits(max_new_per_address=5))
    keys = _keys(12)
    codes = [
        post(site, make_identity(key, f"spread{index}"), f"/spread{index}.xml", address=ATTACKER).result()
        for index, key in enumerate(keys[:8])
    ]
    assert [c.code for c in codes] == [200] * 5 + [429] * 3
    assert "5 identities were created from your address in the last 3600 s" in codes[5].json()["errors"][0]
    assert len(_names(store, folder)) == 5
    # updates of hosted names from that address still work; other addresses are not affected
    assert (
        post(site, make_identity(keys[0], "spread0", revision=2), "/spread0.xml", address=ATTACKER).result().code == 200
    )
    _honest_users_still_register(site, start=8)
    clock.advance(3600)  # the window slides: the address may create again
    assert post(site, make_identity(keys[5], "spread5"), "/spread5.xml", address=ATTACKER).result().code == 200


def test_a_full_server_refuses_new_names_and_keeps_serving_and_updating(store, folder, clock, rec) -> None:
    site = _site(store, clock, rec, limits=IdentityServerLimits(max_identities=4))
    keys = _keys(6)
    for index, key in enumerate(keys[:4]):
        assert (
            post(site, make_identity(key, f"user{index}"), f"/user{index}.xml", address=f"127.0.1.{index}")
            .result()
            .code
            == 200
        )
    full = post(site, make_identity(keys[4], "user4"), "/user4.xml", address="127.0.1.4").result()
    assert full.code == 507
    assert full.json()["errors"] == ["this identity server hosts its maximum of 4 identities: use another one"]
    assert (
        post(site, make_identity(keys[1], "user1", revision=2), "/user1.xml", address="127.0.1.9").result().code == 200
    )
    assert (
        post(site, make_identity(keys[2], "user2"), "/user2.xml", address="127.0.1.9").result().code == 200
    )  # same again
    assert request(site, "GET", "/user3.xml").result().code == 200
    assert request(site, "GET", "/user4.xml").result().code == 404
    assert len(_names(store, folder)) == 4


def test_concurrent_new_names_reserve_their_place(store, folder, clock, rec) -> None:
    blocking = QueuedBlocking()
    site = _site(store, clock, rec, run_blocking=blocking, limits=IdentityServerLimits(max_identities=2))
    calls = [
        post(site, make_identity(key, f"user{index}"), f"/user{index}.xml", address=f"127.0.2.{index}")
        for index, key in enumerate(_keys(5))
    ]
    assert len(blocking.calls) == 5  # all are parsed: none was over a limit yet
    blocking.run_all()
    codes = sorted(call.result().code for call in calls)
    assert codes == [200, 200, 507, 507, 507]
    assert len(_names(store, folder)) == 2


def test_a_failed_write_gives_its_reservation_back(store, folder, clock, rec) -> None:
    def no_disk(fn: Any, *args: Any) -> defer.Deferred[Any]:
        if fn == store.write:
            return defer.fail(OSError("disk full"))
        return inline(fn, *args)

    limits = IdentityServerLimits(max_identities=1, max_new_per_address=1)
    failing = _site(store, clock, rec, run_blocking=no_disk, limits=limits)
    key = _keys(1)[0]
    assert post(failing, make_identity(key, "carol"), "/carol.xml", address=ATTACKER).result().code == 500
    quotas = failing.resource.quotas
    assert not quotas._reserved and quotas.tracked_addresses() == 0
    working = _site(store, clock, rec, limits=limits)
    working.resource.quotas = quotas  # the same counters, now with a disk that works
    assert post(working, make_identity(key, "carol"), "/carol.xml", address=ATTACKER).result().code == 200


def test_documents_are_served_from_disk_not_kept_in_memory(folder, clock, rec) -> None:
    store = IdentityStore(folder, log=rec.log, cache_bytes=3000)  # room for about one document
    blocking = QueuedBlocking()
    site = _site(store, clock, rec, run_blocking=blocking)
    docs = {}
    for index, key in enumerate(_keys(4)):
        docs[f"user{index}"] = make_identity(key, f"user{index}")
        call = post(site, docs[f"user{index}"], f"/user{index}.xml", address=f"127.0.3.{index}")
        blocking.run_all()
        assert call.result().code == 200
    assert store.cache_size() <= 3000
    assert store.cached("user0") is None  # pushed out by the later ones
    got = request(site, "GET", "/user0.xml")
    assert got.response() is None and len(blocking.calls) == 1  # a disk read, off the reactor thread
    blocking.run_all()
    assert Identity.from_xml(got.result().body) == docs["user0"]
    assert store.cached("user0") is not None  # now it is the recent one
    missing = request(site, "GET", "/nobody.xml")
    assert missing.result().code == 404 and not blocking.calls  # an unknown name costs no disk read
    head = request(site, "HEAD", "/user1.xml")
    blocking.run_all()
    assert head.result().code == 200


def test_a_vanished_file_is_404_and_a_broken_disk_500(store, folder, clock, rec, key_a: RsaKey) -> None:
    site = _site(store, clock, rec)
    assert post(site, make_identity(key_a), "/alice.xml").result().code == 200
    restarted = IdentityStore(folder, log=rec.log)
    assert restarted.load() == 1 and restarted.cached("alice") is None
    (folder / "alice.xml").unlink()
    assert request(_site(restarted, clock, rec), "GET", "/alice.xml").result().code == 404

    def broken(fn: Any, *args: Any) -> defer.Deferred[Any]:
        return defer.fail(PermissionError("no"))

    restarted.load()
    (folder / "bob.xml").write_text(make_identity(key_a, "bob").to_xml())
    assert restarted.load() == 1
    response = request(_site(restarted, clock, rec, run_blocking=broken), "GET", "/bob.xml").result()
    assert response.code == 500 and response.json()["errors"] == ["internal error"]


def test_the_index_counts_names_per_key_across_a_restart(store, folder, clock, rec, key_a: RsaKey) -> None:
    site = _site(store, clock, rec)
    for name in ("one", "two", "three"):
        assert post(site, make_identity(key_a, name), f"/{name}.xml").result().code == 200
    restarted = IdentityStore(folder, log=rec.log)
    assert restarted.load() == 3
    again = _site(restarted, clock, rec)
    assert post(again, make_identity(key_a, "four"), "/four.xml").result().code == 403
    assert post(again, make_identity(key_a, "two", revision=5), "/two.xml").result().code == 200
    assert restarted.names_held_by(restarted.entry("two").key_id) == 3


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_per_key must be positive"):
        IdentityServerLimits(max_per_key=0)


def test_the_service_declares_the_quota_options() -> None:
    service = IdentityServerService(engine=None)
    options = {option.key: option for option in service.options()}
    prefix = service.config_prefix()
    assert options[f"{prefix}/max-identities"].default == DEFAULT_MAX_IDENTITIES
    assert options[f"{prefix}/max-identities-per-key"].default == DEFAULT_MAX_PER_KEY
    assert f"{prefix}/max-new-identities-per-address" in options
    assert prefix == "services/identity-server"


def test_the_flood_benchmark_reports_limited_figures() -> None:
    from bitdust.bench import identity_flood

    figures = identity_flood.run(count=40, keys=6, honest=2, padding=28_000)
    assert figures["flood_one_key"] == {"posted": 40, "accepted": DEFAULT_MAX_PER_KEY}
    assert figures["honest_other_addresses"] == {"posted": 2, "accepted": 2}
    assert figures["flood_document_bytes"] > 28_000
    assert figures["disk_files"] == DEFAULT_MAX_PER_KEY + 6 + 2
    assert figures["disk_bytes"] < 40 * figures["flood_document_bytes"] // 4


def test_the_flood_benchmark_is_registered() -> None:
    from bitdust.bench import identity_flood
    from bitdust.bench.registry import benchmarks

    assert benchmarks()["identity_flood"] is identity_flood.BENCHMARK
