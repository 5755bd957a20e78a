"""The known identity servers follow our identity and the network config while the node runs.

Known servers get more identity-fetch room than servers a peer named (``fetch_limits``). The list
used to be read once at startup, so an identity created or rotated later, or a network config
chosen later, counted as a stranger's server until a restart. Here a real Engine (its identity
part, config and event bus, on a ``task.Clock``, never started) goes through its local startup
step, then hears the events the API and the rotator send; worker-thread calls are held in a queue
the test releases, so every step is deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet import task

from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.engine import Engine
from bitdust.node.composition import create_engine
from bitdust.services.identity_part import IdentityPart
from bitdust.services.service_p2p_hookups import IDENTITY_EVENTS
from bitdust.userid.fetch_limits import FetchLimits
from tests.userid.helpers import QueuedBlocking, make_identity

NETWORK_CONFIG_OPTION = "services/network/network-config"


def write_network(path: Path, *servers: tuple[str, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"identity-servers": [{"host": host, "http_port": port} for host, port in servers]}))
    return path


@pytest.fixture
def blocking() -> QueuedBlocking:
    return QueuedBlocking()


@pytest.fixture
def engine(tmp_path: Path, blocking: QueuedBlocking) -> Iterator[Engine]:
    home = tmp_path / "node"
    write_network(home / "metadata" / "networkconfig.json", ("id-a.net", 8084))
    node = create_engine(home, reactor=task.Clock(), service_factories=[], node_parts=[IdentityPart()])
    node.run_blocking = blocking  # type: ignore[method-assign]
    node.init_local()  # the startup step that runs in a worker thread: reads config, identity, cache
    node.after_local()  # config changes become config-changed events
    try:
        yield node
    finally:
        node.release_local()


def known(engine: Engine) -> set[str]:
    return engine.identity_cache.limits.known_servers


def test_startup_knows_the_network_configs_servers(engine: Engine) -> None:
    assert known(engine) == {"id-a.net:8084"}


def test_an_identity_created_later_puts_its_servers_on_the_list(engine: Engine, key_a: RsaKey) -> None:
    me = make_identity(key_a, "myself", sources=["http://id-b.net:8084/myself.xml", "http://id-c.net/myself.xml"])
    engine.local_identity.save(me)
    engine.events.send("local-identity-set", {"global_id": me.global_id, "idurl": me.idurl.url})
    assert known(engine) == {"id-a.net:8084", "id-b.net:8084", "id-c.net"}


def test_a_rotation_moves_the_list_to_the_new_servers(engine: Engine, key_a: RsaKey) -> None:
    engine.local_identity.save(make_identity(key_a, "myself", sources=["http://id-b.net:8084/myself.xml"]))
    engine.events.send("local-identity-set", {})
    rotated = make_identity(key_a, "myself", revision=2, sources=["http://id-d.net:8084/myself.xml"])
    engine.local_identity.save(rotated)
    engine.events.send("my-identity-rotated", {"new_sources": [rotated.idurl.url], "revision": 2})
    assert known(engine) == {"id-a.net:8084", "id-d.net:8084"}


def test_an_erased_identity_takes_its_servers_off_the_list(engine: Engine, key_a: RsaKey) -> None:
    engine.local_identity.save(make_identity(key_a, "myself", sources=["http://id-b.net:8084/myself.xml"]))
    engine.events.send("local-identity-modified", {})
    assert "id-b.net:8084" in known(engine)
    engine.local_identity.erase()
    engine.events.send("local-identity-erased", {})
    assert known(engine) == {"id-a.net:8084"}


def test_another_network_config_replaces_the_configs_servers(
    engine: Engine, tmp_path: Path, blocking: QueuedBlocking, key_a: RsaKey
) -> None:
    engine.local_identity.save(make_identity(key_a, "myself", sources=["http://id-b.net:8084/myself.xml"]))
    engine.events.send("local-identity-set", {})
    other = write_network(tmp_path / "other.json", ("id-e.net", 8084), ("id-f.net", 80))
    engine.config.set(NETWORK_CONFIG_OPTION, str(other))
    assert len(blocking.calls) == 1  # the file is read in a worker thread, not on the reactor
    blocking.run_all()
    assert known(engine) == {"id-e.net:8084", "id-f.net", "id-b.net:8084"}


def test_an_unrelated_option_reads_nothing(engine: Engine, blocking: QueuedBlocking) -> None:
    engine.config.set("logs/debug-level", 4)
    assert blocking.calls == []
    assert known(engine) == {"id-a.net:8084"}


def test_overlapping_reads_apply_only_the_latest(engine: Engine, tmp_path: Path, blocking: QueuedBlocking) -> None:
    first = write_network(tmp_path / "first.json", ("id-first.net", 8084))
    second = write_network(tmp_path / "second.json", ("id-second.net", 8084))
    engine.config.set(NETWORK_CONFIG_OPTION, str(first))
    engine.config.set(NETWORK_CONFIG_OPTION, str(second))
    assert len(blocking.calls) == 2
    blocking.run_next(1)  # the newer read finishes first ...
    assert known(engine) == {"id-second.net:8084"}
    blocking.run_next(0)  # ... and the older one, finishing late, does not undo it
    assert known(engine) == {"id-second.net:8084"}


def test_an_unreadable_network_config_leaves_our_own_servers(
    engine: Engine, tmp_path: Path, blocking: QueuedBlocking, key_a: RsaKey
) -> None:
    engine.local_identity.save(make_identity(key_a, "myself", sources=["http://id-b.net:8084/myself.xml"]))
    engine.events.send("local-identity-set", {})
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    engine.config.set(NETWORK_CONFIG_OPTION, str(broken))
    blocking.run_all()
    assert known(engine) == {"id-b.net:8084"}


def test_every_event_that_changes_our_identity_is_followed() -> None:
    """The events the propagation service treats as "our identity changed" all move the list too."""
    from bitdust.services.identity_part import NETWORK_CONFIG_OPTION as option
    from bitdust.services.identity_part import OWN_IDENTITY_EVENTS

    assert option == NETWORK_CONFIG_OPTION
    assert set(IDENTITY_EVENTS) <= set(OWN_IDENTITY_EVENTS)
    assert "local-identity-erased" in OWN_IDENTITY_EVENTS


def test_a_server_that_becomes_known_gets_its_room_at_once() -> None:
    """Fetches waiting for a server start as soon as it is known; open slots keep exact counts."""
    limits = FetchLimits(max_open_known=4, max_open_unknown=1, max_open_unknown_total=8)
    slots = [limits.acquire("id-b.net:8084") for _ in range(4)]
    started = [d for d in slots if d.called]
    assert len(started) == 1 and limits.waiting == 3
    limits.set_known_servers({"id-b.net:8084"})
    assert all(d.called for d in slots) and limits.waiting == 0 and limits.open == 4
    for d in slots:
        d.addCallback(lambda slot: slot.release())
    assert limits.open == 0
    # back to a stranger: the unknown bound applies again, and the total is intact
    limits.set_known_servers(())
    first, second = limits.acquire("id-b.net:8084"), limits.acquire("id-b.net:8084")
    assert first.called and not second.called
    second.cancel()
    second.addErrback(lambda failure: failure.trap(Exception))
    assert limits.waiting == 0
