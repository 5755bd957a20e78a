"""Refreshing held identities: from every source, paced per identity, bounded in concurrency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.crypt.rsa_key import RsaKey
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.identity_refresh import IdentityRefresher
from tests.userid.helpers import LogRecorder, make_identity

A1 = "http://localhost:8084/alice.xml"
A2 = "http://other.net:8084/alice.xml"
B1 = "http://localhost:8084/bob.xml"


class Servers:
    """``http_get`` over documents per URL; ``hold`` keeps answers pending until ``release``."""

    def __init__(self) -> None:
        self.docs: dict[str, Identity] = {}
        self.calls: list[str] = []
        self.hold = False
        self.held: list[tuple[str, defer.Deferred[tuple[int, bytes]]]] = []

    def publish(self, identity: Identity, *urls: str) -> None:
        for url in urls or [s.url for s in identity.sources]:
            self.docs[url] = identity

    def _answer(self, url: str) -> tuple[int, bytes]:
        identity = self.docs.get(url)
        return (200, identity.to_xml().encode()) if identity is not None else (404, b"")

    def __call__(self, url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        self.calls.append(url)
        if self.hold:
            d: defer.Deferred[tuple[int, bytes]] = defer.Deferred()
            self.held.append((url, d))
            return d
        return defer.succeed(self._answer(url))

    def release(self) -> None:
        held, self.held = self.held, []
        for url, d in held:
            d.callback(self._answer(url))


@pytest.fixture
def clock() -> task.Clock:
    clock = task.Clock()
    clock.advance(1000)
    return clock


@pytest.fixture
def servers() -> Servers:
    return Servers()


@pytest.fixture
def cache(tmp_path: Path, servers: Servers, clock: task.Clock) -> IdentityCache:
    return IdentityCache(tmp_path / "cache", http_get=servers, clock=clock, log=LogRecorder().log)


def fired(d: defer.Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "the deferred has not fired"
    return box[0]


def alice(key: RsaKey, revision: int, contacts: tuple[str, ...] = ()) -> Identity:
    return make_identity(key, revision=revision, sources=[A1, A2], contacts=contacts)


def test_refresh_fetches_every_source_and_keeps_the_newest(cache, servers, key_a) -> None:
    old = alice(key_a, 0)
    cache.put(old)
    newer = alice(key_a, 1, ("tcp://127.0.0.1:7001",))
    servers.publish(old, A1)  # the primary server lags behind
    servers.publish(newer, A2)
    result = fired(cache.refresh(A1, reason="test"))
    assert result == newer and cache.get(A1) == newer
    assert sorted(servers.calls) == sorted([A1, A2])
    assert cache.refresher.stats.found_newer == 1


def test_refresh_never_fails(cache, servers, key_a) -> None:
    cache.put(alice(key_a, 3))
    assert fired(cache.refresh(A1)).revision == 3  # both servers answer 404
    assert fired(cache.refresh("http://nobody.net/x.xml")) is None
    assert fired(cache.refresh("not an idurl at all")) is None


def test_refresh_of_an_unknown_identity_fetches_it(cache, servers, key_a) -> None:
    servers.publish(alice(key_a, 2))
    assert fired(cache.refresh(A1)).revision == 2


def test_pace_doubles_while_nothing_is_newer_and_resets_when_something_is(cache, servers, clock, key_a) -> None:
    cache.put(alice(key_a, 0))
    servers.publish(alice(key_a, 0))

    def refresh() -> int:
        before = len(servers.calls)
        fired(cache.refresh(A1))
        return len(servers.calls) - before

    assert refresh() == 2  # the first refresh runs at once
    assert refresh() == 0  # paced: the held identity answers
    clock.advance(1.0)
    assert refresh() == 2
    clock.advance(1.0)
    assert refresh() == 0  # nothing newer twice: now 2 s
    clock.advance(1.0)
    assert refresh() == 2
    for wait in (4.0, 8.0, 16.0, 32.0, 60.0, 60.0):
        clock.advance(wait - 0.01)
        assert refresh() == 0
        clock.advance(0.01)
        assert refresh() == 2
    assert cache.refresher.stats.rate_limited == 8
    servers.publish(alice(key_a, 1))
    clock.advance(60.0)
    assert refresh() == 2  # found revision 1: the pace resets
    clock.advance(1.0)
    assert refresh() == 2


def test_a_lying_revision_costs_paced_fetches_only(cache, servers, clock, key_a) -> None:
    cache.put(alice(key_a, 1))
    servers.publish(alice(key_a, 1))
    # 200 verified packets a second for 10 minutes, each claiming a revision nobody serves
    for _second in range(600):
        for claim in range(2, 202):
            cache.refresh_if_older(A1, claim)
        clock.advance(1.0)
    assert len(servers.calls) <= 2 * (1 + 6 + 10)  # 1, 2, 4 ... 60 s apart, two sources each
    assert cache.get(A1).revision == 1


def test_refresh_if_older_does_nothing_for_a_revision_we_hold(cache, servers, key_a) -> None:
    cache.put(alice(key_a, 5))
    assert fired(cache.refresh_if_older(A2, 5)).revision == 5
    assert fired(cache.refresh_if_older(A1, 4)).revision == 5
    assert servers.calls == []
    servers.publish(alice(key_a, 6))
    assert fired(cache.refresh_if_older(A1, 6)).revision == 6


def test_concurrent_refreshes_of_one_identity_share_one_round(cache, servers, key_a) -> None:
    cache.put(alice(key_a, 0))
    servers.publish(alice(key_a, 1))
    servers.hold = True
    first, second, by_other_source = cache.refresh(A1), cache.refresh(A1), cache.refresh(A2)
    assert len(servers.calls) == 2
    servers.release()
    assert fired(first).revision == fired(second).revision == fired(by_other_source).revision == 1


def test_concurrency_is_bounded(tmp_path, servers, clock, key_a, key_b) -> None:
    cache = IdentityCache(tmp_path / "c", http_get=servers, clock=clock, log=LogRecorder().log)
    cache.refresher = IdentityRefresher(cache, clock=clock, log=LogRecorder().log, max_running=1)
    cache.put(alice(key_a, 0))
    cache.put(make_identity(key_b, "bob", revision=0, sources=[B1], contacts=()))
    servers.hold = True
    cache.refresh(A1)
    assert fired(cache.refresh(B1)).revision == 0  # skipped: the one slot is taken
    assert servers.calls == [A1, A2]
    assert cache.refresher.stats.over_capacity == 1
    servers.release()
    cache.refresh(B1)
    assert servers.calls[-1] == B1


def test_tracked_identities_are_bounded(tmp_path, servers, clock, key_a) -> None:
    cache = IdentityCache(tmp_path / "c", http_get=servers, clock=clock, log=LogRecorder().log)
    cache.refresher = IdentityRefresher(cache, clock=clock, log=LogRecorder().log, max_tracked=3)
    for number in range(3):
        fired(cache.refresh(f"http://localhost:8084/user{number}.xml"))
    assert len(servers.calls) == 3
    fired(cache.refresh("http://localhost:8084/user9.xml"))
    assert len(servers.calls) == 3  # no room: skipped
    clock.advance(1.0)  # the paces ran out: their room is free again
    fired(cache.refresh("http://localhost:8084/user9.xml"))
    assert len(servers.calls) == 4


def test_bad_intervals_are_refused(cache, clock) -> None:
    with pytest.raises(ValueError):
        IdentityRefresher(cache, clock=clock, min_interval=0)
    with pytest.raises(ValueError):
        IdentityRefresher(cache, clock=clock, min_interval=5, max_interval=1)
