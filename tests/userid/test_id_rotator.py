"""Rotation: choosing sources, republishing, saving; and publishing errors."""

from __future__ import annotations

import pytest
from twisted.internet import defer, task

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import Conflict
from bitdust.main.settings.network_config import IdServerAddress
from bitdust.userid.id_publish import IdentityPublishError, publish
from bitdust.userid.id_rotator import DOWN, FREE, OURS, TAKEN, choose_sources, rotate
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.idurl import IdUrl
from bitdust.userid.local_identity import LocalIdentity
from tests.userid.fake_servers import FakeIdServers
from tests.userid.helpers import make_identity


def idurl(port: int) -> IdUrl:
    return IdUrl(host="127.0.0.1", port=port, name="alice")


def inline(fn, *args, **kwargs):
    return defer.maybeDeferred(fn, *args, **kwargs)


def outcome(d):
    results = []
    d.addBoth(results.append)
    assert results
    return results[0]


A, B, C = idurl(9001), idurl(9002), idurl(9003)


def test_choose_keeps_healthy_and_replaces_broken() -> None:
    probes = {A.server: DOWN, B.server: OURS, C.server: FREE}
    assert choose_sources([A, B], [A, B, C], probes, count=2, force=False) == [B, C]


def test_forced_rotation_takes_a_new_primary() -> None:
    probes = {A.server: OURS, B.server: OURS, C.server: FREE}
    assert choose_sources([A, B], [A, B, C], probes, count=2, force=True) == [C, A]


def test_forced_rotation_without_new_server_drops_broken_ones() -> None:
    probes = {A.server: DOWN, B.server: OURS}
    assert choose_sources([A, B], [A, B], probes, count=2, force=True) == [B]


def test_forced_rotation_with_nothing_to_do_is_a_conflict() -> None:
    probes = {A.server: OURS, B.server: OURS, C.server: TAKEN}
    with pytest.raises(Conflict):
        choose_sources([A, B], [A, B, C], probes, count=2, force=True)


@pytest.fixture
def world(tmp_path, key_a):
    fleet = FakeIdServers("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003")
    current = make_identity(key_a, sources=[A.url, B.url], revision=0)
    for server in ("127.0.0.1:9001", "127.0.0.1:9002"):
        fleet.docs[server]["alice"] = current
    keys = KeyRegistry(tmp_path / "keys")
    keys.install_master(key_a, current.global_id, current.idurl.url)
    local = LocalIdentity(tmp_path / "localidentity")
    local.save(current)
    cache = IdentityCache(tmp_path / "cache", http_get=fleet.http_get, clock=task.Clock())
    cache.put(current)
    servers = [IdServerAddress("127.0.0.1", p) for p in (9001, 9002, 9003)]

    def run(force=True, servers=servers):
        return outcome(
            rotate(
                local=local,
                keys=keys,
                cache=cache,
                servers=servers,
                http_get=fleet.http_get,
                http_post=fleet.http_post,
                run_blocking=inline,
                min_servers=2,
                force=force,
            )
        )

    return {"fleet": fleet, "keys": keys, "local": local, "cache": cache, "run": run, "current": current}


def test_rotate_when_a_server_is_down(world):
    world["fleet"].down.add(A.server)
    rotation = world["run"](force=False)
    assert rotation.rotated
    new = rotation.identity
    assert [s.url for s in new.sources] == [B.url, C.url]
    assert new.revision == 1 and new.public_key == world["current"].public_key and new.verify()
    assert world["fleet"].docs[C.server]["alice"].same_content(new)
    assert world["fleet"].docs[B.server]["alice"].same_content(new)
    assert world["local"].current.same_content(new)
    assert world["keys"].master().key_id == "master$alice@127.0.0.1_9002"
    assert world["cache"].resolve(A.url) == B


def test_healthy_identity_is_left_alone_unless_forced(world):
    rotation = world["run"](force=False)
    assert not rotation.rotated and rotation.identity is world["current"]
    forced = world["run"](force=True)
    assert forced.rotated and forced.identity.idurl == C


def test_failed_publish_changes_nothing_locally(world):
    fleet = world["fleet"]
    real_post = fleet.http_post

    def refusing_c(url, body, timeout):
        if IdUrl.parse(url).server == C.server:
            return defer.succeed((409, b'{"status": "ERROR", "errors": ["name taken"]}'))
        return real_post(url, body, timeout)

    fleet.http_post = refusing_c
    failure = world["run"](force=True)
    assert isinstance(failure.value, IdentityPublishError) and status_of(failure.value) == 409
    assert world["local"].current is world["current"]
    assert world["keys"].master().key_id == "master$alice@127.0.0.1_9001"


def test_only_unhealthy_servers_shrink_the_source_list(world, key_b):
    world["fleet"].docs[C.server]["alice"] = make_identity(key_b, sources=[C.url])  # C is someone else's
    world["fleet"].down.add(A.server)
    rotation = world["run"](force=False)
    assert rotation.rotated and [s.url for s in rotation.identity.sources] == [B.url]
    assert rotation.probes == {A.server: DOWN, B.server: OURS, C.server: TAKEN}


def test_publish_reports_every_server(key_a):
    fleet = FakeIdServers("127.0.0.1:9001")
    identity = make_identity(key_a, sources=[A.url, B.url])
    failure = outcome(publish(fleet.http_post, identity))
    assert isinstance(failure.value, IdentityPublishError)
    assert set(failure.value.problems) == {B.server}
    assert "unreachable" in failure.value.problems[B.server]
