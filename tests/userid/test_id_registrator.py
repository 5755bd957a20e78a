"""The identity registrator machine, every edge, with fake servers and inline blocking work."""

from __future__ import annotations

import pytest
from twisted.internet import defer, task

from bitdust.automats.registry import AutomatRegistry
from bitdust.crypt.key_registry import KeyRegistry
from bitdust.interface.error_statuses import status_of
from bitdust.main.settings.network_config import IdServerAddress
from bitdust.userid.id_publish import IdentityPublishError
from bitdust.userid.id_registrator import IdRegistrator
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.local_identity import LocalIdentity
from tests.userid.fake_servers import FakeIdServers

SERVERS = [IdServerAddress("127.0.0.1", 9001, "id-a"), IdServerAddress("127.0.0.1", 9002, "id-b")]


def inline(fn, *args, **kwargs):
    return defer.maybeDeferred(fn, *args, **kwargs)


@pytest.fixture
def world(tmp_path, key_a, monkeypatch):
    # Key generation is the slow part; reuse a session key (the machine only asks RsaKey.generate).
    monkeypatch.setattr("bitdust.userid.id_registrator.RsaKey.generate", lambda bits: key_a)
    fleet = FakeIdServers("127.0.0.1:9001", "127.0.0.1:9002")
    clock = task.Clock()
    keys = KeyRegistry(tmp_path / "keys")
    local = LocalIdentity(tmp_path / "metadata" / "localidentity")
    cache = IdentityCache(tmp_path / "cache", http_get=fleet.http_get, clock=clock)
    registry = AutomatRegistry(strict=True)

    def make(username="alice", servers=SERVERS, run_blocking=inline):
        return IdRegistrator(
            username=username,
            servers=servers,
            key_size=1024,
            keys=keys,
            local=local,
            cache=cache,
            http_post=fleet.http_post,
            run_blocking=run_blocking,
            clock=clock,
            registry=registry,
        )

    return {"fleet": fleet, "keys": keys, "local": local, "cache": cache, "make": make, "registry": registry}


def outcome(d):
    results = []
    d.addBoth(results.append)
    assert results
    return results[0]


def test_happy_path_registers_everywhere_then_saves(world, key_a):
    machine = world["make"]()
    states = []
    machine.add_state_changed_callback(lambda a, old, new, ev: states.append(new))
    machine.start()
    identity = outcome(machine.result)
    assert states == ["KEY_GENERATE", "REGISTER", "SAVE", "DONE"]
    assert identity.global_id == "alice@127.0.0.1_9001"
    assert [s.url for s in identity.sources] == ["http://127.0.0.1:9001/alice.xml", "http://127.0.0.1:9002/alice.xml"]
    assert identity.verify()
    assert world["fleet"].docs["127.0.0.1:9001"]["alice"].same_content(identity)
    assert world["fleet"].docs["127.0.0.1:9002"]["alice"].same_content(identity)
    assert world["local"].current.same_content(identity)
    assert world["keys"].master().key == key_a
    assert world["keys"].master().key_id == "master$alice@127.0.0.1_9001"
    assert world["cache"].get(identity.idurl) is not None
    reloaded = LocalIdentity(world["local"].path)
    assert reloaded.load().same_content(identity)


def test_name_taken_on_one_server_saves_nothing(world, key_b):
    from tests.userid.helpers import make_identity

    taken = make_identity(key_b, "alice", sources=["http://127.0.0.1:9002/alice.xml"])
    world["fleet"].docs["127.0.0.1:9002"]["alice"] = taken
    machine = world["make"]()
    machine.start()
    failure = outcome(machine.result)
    assert isinstance(failure.value, IdentityPublishError)
    assert status_of(failure.value) == 409
    assert "127.0.0.1:9002" in failure.value.message
    assert machine.state == "FAILED"
    assert world["local"].current is None and world["keys"].master() is None
    assert not world["local"].path.exists()


def test_unreachable_server_saves_nothing(world):
    world["fleet"].down.add("127.0.0.1:9001")
    machine = world["make"]()
    machine.start()
    failure = outcome(machine.result)
    assert "unreachable" in failure.value.message and status_of(failure.value) == 502
    assert world["local"].current is None and world["keys"].master() is None


def test_key_generation_failure(world, monkeypatch):
    def broken(bits):
        raise RuntimeError("no entropy")

    monkeypatch.setattr("bitdust.userid.id_registrator.RsaKey.generate", broken)
    machine = world["make"]()
    machine.start()
    failure = outcome(machine.result)
    assert "no entropy" in failure.getErrorMessage()
    assert machine.state == "FAILED"
    assert world["fleet"].posts == []


def test_save_failure_rolls_the_master_key_back(world, monkeypatch):
    def disk_full(identity):
        raise OSError("disk full")

    monkeypatch.setattr(world["local"], "save", disk_full)
    machine = world["make"]()
    machine.start()
    failure = outcome(machine.result)
    assert failure.check(OSError)
    assert machine.state == "FAILED"
    assert world["keys"].master() is None


def test_bad_username_is_refused_before_anything(world):
    from bitdust.main.errors import InvalidInput

    with pytest.raises(InvalidInput):
        world["make"](username="Al")
    assert len(world["registry"]) == 0


def test_waits_for_slow_work_in_order(world):
    from tests.userid.helpers import QueuedBlocking

    queued = QueuedBlocking()
    machine = world["make"](run_blocking=queued)
    machine.start()
    assert machine.state == "KEY_GENERATE"
    call, _, d = queued.calls.pop(0)
    d.callback(call())
    assert machine.state == "SAVE"
    call, _, d = queued.calls.pop(0)
    d.callback(call())
    assert machine.state == "DONE"
    assert outcome(machine.result).name == "alice"
