"""process_info has the original's sections, filled from a real catalog, identity cache and gateway."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.crypt.rsa_key import RsaKey
from bitdust.interface.api import process
from bitdust.p2p.gateway import Gateway
from bitdust.services.network_part import P2PHub
from bitdust.storage.catalog import Catalog
from bitdust.storage.remote_path import RemotePath
from bitdust.userid.identity_cache import IdentityCache
from tests.userid.helpers import make_identity

SECTIONS = {"config", "identity", "contact", "service", "key", "file", "dht", "share", "group", "network", "stream"}


def run_blocking(fn: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args, **kwargs)


class FakeServices:
    def __init__(self, on: set[str]) -> None:
        self.on = on

    def list(self) -> list[dict[str, Any]]:
        return [{"name": name, "state": "ON"} for name in sorted(self.on)] + [{"name": "service_x", "state": "OFF"}]

    def is_on(self, name: str) -> bool:
        return name in self.on


class FakeContacts:
    def connected(self) -> list[str]:
        return ["http://h/bob.xml"]


@pytest.fixture(scope="module")
def bob_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture
def engine(tmp_path: Path, bob_key: RsaKey) -> Iterator[Any]:
    clock = task.Clock()
    cache = IdentityCache(tmp_path / "identities", http_get=lambda url, timeout: defer.Deferred(), clock=clock)
    cache.put(make_identity(bob_key, "bob", sources=["http://h/bob.xml", "http://k/bob.xml"], contacts=("tcp://a:1",)))
    catalog = Catalog.open(tmp_path / "catalog")
    engine = types.SimpleNamespace(
        pid=1234,
        version="0.0-test",
        paths=types.SimpleNamespace(home=tmp_path),
        state="READY",
        started_at=1.0,
        uptime=lambda: 2.5,
        api=None,
        config=types.SimpleNamespace(keys=lambda: ["a", "b", "c"]),
        services=FakeServices({"service_backup_db", "service_gateway"}),
        keys=["master", "other"],
        automats=types.SimpleNamespace(list=lambda: [1, 2]),
        events=types.SimpleNamespace(consumers=lambda: []),
        local_identity=types.SimpleNamespace(current=None),
        identity_cache=cache,
        catalog=catalog,
        run_blocking=run_blocking,
    )
    engine.p2p = P2PHub(engine)
    engine.p2p.contacts = FakeContacts()
    engine.p2p.gateway = Gateway(
        clock=clock, identity=lambda: None, signing_key=lambda: None, cache=cache, run_blocking=run_blocking
    )
    yield engine
    catalog.close()


def _info(engine: Any) -> dict[str, Any]:
    results: list[Any] = []
    process.process_info(engine).addBoth(results.append)
    assert results and isinstance(results[0], dict), results
    return results[0]


def test_process_info_has_the_original_sections_filled_from_what_exists(engine: Any) -> None:
    engine.catalog.create(RemotePath("master$alice@host", "a/b.txt"))
    info = _info(engine)
    assert SECTIONS <= set(info) and "automats" in info
    assert {"pid", "version", "home", "engine_state", "uptime", "memory", "api", "event"} <= set(info)  # ours stay
    assert info["config"] == {"options": 3}
    assert info["identity"]["cache"] == 1 and info["identity"]["cache_ids"] == 2
    assert info["identity"]["cache_contacts"] == 1 and info["identity"]["ready"] is False
    assert info["contact"]["active"] == 1
    assert info["contact"]["suppliers_hired"] == info["contact"]["customers"] == 0
    assert info["service"] == {"active": 2, "total": 3}
    assert info["key"] == {"registered": 2}
    assert info["file"]["items"] == 2 and info["file"]["files"] == 1 and info["file"]["folders"] == 1
    assert info["file"]["customers"] == 1
    assert info["dht"] == {"layers": {}, "bytes_out": 0, "bytes_in": 0}  # the DHT service is not running
    assert info["share"] == {"active": 0} and info["group"] == {"active": 0}
    assert info["network"] == {
        "protocols": [],
        "packets_out": 0,
        "packets_out_total": 0,
        "packets_in": 0,
        "packets_in_total": 0,
    }
    assert set(info["stream"]) >= {"queues", "consumers", "producers", "keepers", "peddlers", "supplier_queues"}
    assert all(value == 0 for value in info["stream"].values())
    assert info["automats"] == {"active": 2}


def test_file_section_is_zero_while_the_catalog_is_not_running(engine: Any) -> None:
    engine.catalog.create(RemotePath("master$alice@host", "a.txt"))
    engine.services.on.discard("service_backup_db")
    info = _info(engine)
    assert set(info["file"]) == {"items", "files", "files_size", "folders", "folders_size", "backups_size", "customers"}
    assert all(value == 0 for value in info["file"].values())


def test_network_section_counts_the_gateway(engine: Any) -> None:
    gateway = engine.p2p.gateway
    gateway.add_transport(types.SimpleNamespace(proto="tcp"))
    gateway.stats.count("in", "Identity", "http://h/bob.xml", 10)
    gateway.stats.count("out", "Ack", "http://h/bob.xml", 5)
    gateway.stats.count("out", "Ack", "http://h/bob.xml", 5)
    network = _info(engine)["network"]
    assert network["protocols"] == ["tcp"]
    assert (network["packets_in_total"], network["packets_out_total"]) == (1, 2)
