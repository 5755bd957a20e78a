from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.crypt.rsa_key import RsaKey
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput
from bitdust.userid.errors import IdentityFetchError
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.idurl import IdUrl
from tests.userid.helpers import LogRecorder, QueuedBlocking, make_identity

A_URL = "http://localhost:8084/alice.xml"
B_URL = "http://other.net/alice.xml"


class FakeHttp:
    """``http_get`` answering from a dict: (status, body), an exception, or "hang"."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.calls: list[tuple[str, float]] = []
        self.cancelled: list[str] = []

    def __call__(self, url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        self.calls.append((url, timeout))
        answer = self.answers.get(url, (404, b"not found"))
        if answer == "hang":
            return defer.Deferred(canceller=lambda _d: self.cancelled.append(url))
        if isinstance(answer, Exception):
            return defer.fail(answer)
        return defer.succeed(answer)


@pytest.fixture
def http() -> FakeHttp:
    return FakeHttp()


@pytest.fixture
def clock() -> task.Clock:
    clock = task.Clock()
    clock.advance(1000)
    return clock


@pytest.fixture
def rec() -> LogRecorder:
    return LogRecorder()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "identitycache"


@pytest.fixture
def cache(folder: Path, http: FakeHttp, clock: task.Clock, rec: LogRecorder) -> IdentityCache:
    return IdentityCache(folder, http_get=http, clock=clock, log=rec.log, timeout=10)


def _result(d: defer.Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "deferred has not fired"
    return results[0]


def _fetch_error(d: defer.Deferred[Any]) -> IdentityFetchError:
    failure = _result(d)
    assert failure.check(IdentityFetchError), failure
    return failure.value


# -- accept / refuse ----------------------------------------------------------------------------


def test_new_identity_is_accepted(cache: IdentityCache, key_a: RsaKey, clock: task.Clock) -> None:
    alice = make_identity(key_a)
    assert cache.get(A_URL) is None
    assert cache.put(alice)
    assert cache.get(A_URL) is alice
    assert cache.get(IdUrl.parse(A_URL)) is alice
    assert cache.get("alice@localhost_8084") is alice
    assert A_URL in cache and "nonsense!" not in cache and 5 not in cache
    assert len(cache) == 1
    assert cache.list() == [
        {
            "idurl": A_URL,
            "global_id": "alice@localhost_8084",
            "revision": 1,
            "contacts": ["tcp://127.0.0.1:7771"],
            "fetched": 1000.0,
        }
    ]


def test_unsigned_or_forged_is_refused(cache: IdentityCache, key_a: RsaKey, key_b: RsaKey) -> None:
    assert not cache.put(make_identity(key_a, sign=False))
    forged = make_identity(key_a).with_changes(revision=9)
    forged = forged.signed(key_a).with_changes(revision=10)
    assert not cache.put(forged)
    assert cache.get(A_URL) is None


def test_same_key_higher_revision_replaces(cache: IdentityCache, key_a: RsaKey) -> None:
    assert cache.put(make_identity(key_a, revision=1))
    newer = make_identity(key_a, revision=2, contacts=("tcp://10.0.0.2:7771",))
    assert cache.put(newer)
    assert cache.get(A_URL) is newer


def test_lower_or_equal_revision_is_refused(cache: IdentityCache, key_a: RsaKey, rec: LogRecorder) -> None:
    current = make_identity(key_a, revision=5)
    assert cache.put(current)
    assert not cache.put(make_identity(key_a, revision=4))
    assert not cache.put(make_identity(key_a, revision=5, contacts=("tcp://6.6.6.6:1",)))
    assert cache.get(A_URL) is current
    assert any("not newer than the known revision 5" in text for text in rec.texts())


def test_same_revision_same_content_is_a_no_op(cache: IdentityCache, key_a: RsaKey, clock: task.Clock) -> None:
    current = make_identity(key_a, revision=5)
    assert cache.put(current)
    clock.advance(60)
    resigned = current.with_changes().signed(key_a)
    assert cache.put(resigned)
    assert cache.get(A_URL) is current
    assert cache.list()[0]["fetched"] == 1060.0


def test_other_key_is_refused(cache: IdentityCache, key_a: RsaKey, key_b: RsaKey, rec: LogRecorder) -> None:
    alice = make_identity(key_a, revision=1)
    assert cache.put(alice)
    assert not cache.put(make_identity(key_b, revision=99))
    assert cache.get(A_URL) is alice
    # Also when only one of several sources collides.
    both = make_identity(key_b, revision=99, sources=[B_URL, A_URL])
    assert not cache.put(both)
    assert cache.get(B_URL) is None
    assert any("held by another public key" in text for text in rec.texts())


# -- rotation -----------------------------------------------------------------------------------


def test_rotation_maps_old_idurls(cache: IdentityCache, key_a: RsaKey) -> None:
    assert cache.put(make_identity(key_a, revision=1, sources=[A_URL, "http://third.net/alice.xml"]))
    rotated = make_identity(key_a, revision=2, sources=[B_URL, "http://third.net/alice.xml"])
    assert cache.put(rotated)
    assert cache.resolve(A_URL) == IdUrl.parse(B_URL)
    assert cache.get(A_URL) is rotated
    assert cache.get("http://third.net/alice.xml") is rotated
    assert len(cache) == 1
    # An old document from the dead server is stale now.
    assert not cache.put(make_identity(key_a, revision=1, sources=[A_URL]))
    # Rotating back removes the alias.
    back = make_identity(key_a, revision=3, sources=[A_URL])
    assert cache.put(back)
    assert cache.resolve(A_URL) == IdUrl.parse(A_URL)
    assert cache.get(B_URL) is back


def test_remember_rotation(cache: IdentityCache, key_a: RsaKey) -> None:
    alice = make_identity(key_a, sources=[B_URL])
    cache.put(alice)
    cache.remember_rotation(A_URL, B_URL)
    assert cache.get(A_URL) is alice
    with pytest.raises(InvalidInput):
        cache.remember_rotation(B_URL, A_URL)
    with pytest.raises(InvalidInput):
        cache.remember_rotation(A_URL, A_URL)


# -- disk ---------------------------------------------------------------------------------------


def _new_cache(folder: Path, clock: task.Clock, rec: LogRecorder) -> IdentityCache:
    return IdentityCache(folder, http_get=FakeHttp(), clock=clock, log=rec.log)


def test_persistence_across_instances(
    cache: IdentityCache, folder: Path, key_a: RsaKey, key_b: RsaKey, clock, rec
) -> None:
    alice = make_identity(key_a, revision=3)
    bob = make_identity(key_b, "bob", revision=1)
    assert _result(cache.store(alice)) is True
    assert _result(cache.store(bob)) is True
    assert _result(cache.store(make_identity(key_a, revision=2))) is False
    assert sorted(p.name for p in folder.iterdir()) == [
        "alice@localhost_8084.bound.json",
        "alice@localhost_8084.xml",
        "bob@localhost_8084.bound.json",
        "bob@localhost_8084.xml",
    ]

    again = _new_cache(folder, clock, rec)
    assert again.load() == 2
    assert again.get(A_URL) == alice
    assert again.get("bob@localhost_8084") == bob
    assert again.list()[0]["fetched"] == os.stat(folder / "alice@localhost_8084.xml").st_mtime


def test_load_skips_bad_files(folder: Path, key_a: RsaKey, key_b: RsaKey, clock, rec) -> None:
    folder.mkdir(parents=True)
    good = make_identity(key_a)
    _new_cache(folder, clock, rec).persist(good)
    (folder / "garbage@h.xml").write_bytes(b"\x00not xml")
    tampered = make_identity(key_b, "bob").to_xml().replace("<revision>1<", "<revision>7<")
    (folder / "bob@localhost_8084.xml").write_text(tampered)
    (folder / "carol@elsewhere.xml").write_text(make_identity(key_b, "carol").to_xml())
    (folder / ".alice@localhost_8084.xml.123.tmp").write_text("partial")
    (folder / "notes.txt").write_text("ignored")
    cache = _new_cache(folder, clock, rec)
    assert cache.load() == 1
    assert cache.get(A_URL) == good
    warnings = "\n".join(rec.texts())
    assert "garbage@h.xml" in warnings and "bob@localhost_8084.xml" in warnings and "carol@elsewhere.xml" in warnings


def test_load_missing_folder(folder: Path, clock, rec) -> None:
    assert _new_cache(folder, clock, rec).load() == 0


def test_load_restores_rotation(cache: IdentityCache, folder: Path, key_a: RsaKey, clock, rec) -> None:
    _result(cache.store(make_identity(key_a, revision=1, sources=[A_URL])))
    rotated = make_identity(key_a, revision=2, sources=[B_URL])
    _result(cache.store(rotated))
    again = _new_cache(folder, clock, rec)
    assert again.load() == 1
    assert again.get(A_URL) == rotated


def test_forget(cache: IdentityCache, folder: Path, key_a: RsaKey, clock, rec) -> None:
    _result(cache.store(make_identity(key_a, revision=1, sources=[A_URL])))
    _result(cache.store(make_identity(key_a, revision=2, sources=[B_URL])))
    assert len(list(folder.iterdir())) == 4  # two documents, each with its bindings
    assert _result(cache.forget(A_URL)) is True
    assert cache.get(A_URL) is None and cache.get(B_URL) is None
    assert list(folder.iterdir()) == []
    assert _result(cache.forget(A_URL)) is False
    assert _new_cache(folder, clock, rec).load() == 0


def test_writes_never_go_backwards(folder: Path, key_a: RsaKey, clock, rec) -> None:
    blocking = QueuedBlocking()
    cache = IdentityCache(folder, http_get=FakeHttp(), clock=clock, log=rec.log, run_blocking=blocking)
    first = cache.store(make_identity(key_a, revision=1))
    second = cache.store(make_identity(key_a, revision=2))
    third = cache.store(make_identity(key_a, revision=3))
    assert len(blocking.calls) == 1  # writes are chained, one at a time
    blocking.run_next()  # revision 1
    assert _result(first) is True
    assert len(blocking.calls) == 1  # revision 2 is skipped (3 is current), revision 3 queued
    assert _result(second) is True
    blocking.run_all()
    assert _result(third) is True
    assert Identity.from_xml((folder / "alice@localhost_8084.xml").read_bytes()).revision == 3


# -- fetch --------------------------------------------------------------------------------------


def test_fetch_success(cache: IdentityCache, http: FakeHttp, folder: Path, key_a: RsaKey) -> None:
    alice = make_identity(key_a, revision=4)
    http.answers[A_URL] = (200, alice.to_xml().encode())
    fetched = _result(cache.fetch("alice@localhost_8084"))
    assert fetched == alice
    assert cache.get(A_URL) == alice
    assert http.calls == [(A_URL, 10)]
    assert (folder / "alice@localhost_8084.xml").exists()


def test_fetches_are_counted_once_per_request(cache: IdentityCache, http: FakeHttp, key_a: RsaKey) -> None:
    """packets_stats reports these as the original's identity_cache_count/_fails/_bytes."""
    body = make_identity(key_a).to_xml().encode()
    http.answers[A_URL] = (200, body)
    _result(cache.fetch(A_URL))
    http.answers[B_URL] = (404, b"nope")
    _fetch_error(cache.fetch(B_URL))
    assert (cache.fetched, cache.fetch_failures, cache.fetched_bytes) == (1, 1, len(body) + 4)


def test_concurrent_fetches_share_one_request(key_a: RsaKey, folder: Path, clock, rec) -> None:
    http = FakeHttp()
    pending: defer.Deferred[tuple[int, bytes]] = defer.Deferred()

    def http_get(url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        http.calls.append((url, timeout))
        return pending

    cache = IdentityCache(folder, http_get=http_get, clock=clock, log=rec.log)
    first, second = cache.fetch(A_URL), cache.fetch(A_URL)
    alice = make_identity(key_a)
    pending.callback((200, alice.to_xml().encode()))
    assert _result(first) == _result(second) == alice
    assert len(http.calls) == 1


def test_concurrent_fetch_failures_reach_every_caller(cache: IdentityCache, http: FakeHttp, clock) -> None:
    http.answers[A_URL] = "hang"
    first, second = cache.fetch(A_URL), cache.fetch(A_URL)
    clock.advance(10)
    assert _fetch_error(first).reason == _fetch_error(second).reason == "timeout"
    assert len(http.calls) == 1


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((404, b"nope"), "http-status"),
        ((500, b""), "http-status"),
        ((200, b"x" * 40_000), "too-large"),
        ((200, b"<html>hello</html>"), "bad-document"),
        (ConnectionError("refused"), "network"),
        (IdentityFetchError("big", reason="too-large"), "too-large"),
    ],
)
def test_fetch_failures(cache: IdentityCache, http: FakeHttp, answer: Any, reason: str) -> None:
    http.answers[A_URL] = answer
    error = _fetch_error(cache.fetch(A_URL))
    assert error.reason == reason
    assert status_of(error) == 502
    assert cache.get(A_URL) is None


def test_fetch_timeout(cache: IdentityCache, http: FakeHttp, clock: task.Clock) -> None:
    http.answers[A_URL] = "hang"
    d = cache.fetch(A_URL)
    results: list[Any] = []
    d.addBoth(results.append)
    clock.advance(9.9)
    assert not results
    clock.advance(0.1)
    assert results[0].check(IdentityFetchError)
    assert results[0].value.reason == "timeout"
    assert http.cancelled == [A_URL]
    # the failure released the pending slot: a new fetch asks again
    http.answers[A_URL] = (404, b"")
    assert _fetch_error(cache.fetch(A_URL)).reason == "http-status"


def test_fetch_bad_signature(cache: IdentityCache, http: FakeHttp, key_a: RsaKey) -> None:
    tampered = make_identity(key_a).to_xml().replace("tcp://127.0.0.1:7771", "tcp://6.6.6.6:7771")
    http.answers[A_URL] = (200, tampered.encode())
    assert _fetch_error(cache.fetch(A_URL)).reason == "bad-signature"
    http.answers[A_URL] = (200, make_identity(key_a, sign=False).to_xml().encode())
    assert _fetch_error(cache.fetch(A_URL)).reason == "bad-signature"


def test_fetch_wrong_sources(cache: IdentityCache, http: FakeHttp, key_a: RsaKey) -> None:
    http.answers[A_URL] = (200, make_identity(key_a, sources=[B_URL]).to_xml().encode())
    error = _fetch_error(cache.fetch(A_URL))
    assert error.reason == "wrong-sources"
    assert cache.get(B_URL) is None


def test_fetch_key_changed(cache: IdentityCache, http: FakeHttp, key_a: RsaKey, key_b: RsaKey) -> None:
    cache.put(make_identity(key_a))
    http.answers[A_URL] = (200, make_identity(key_b, revision=50).to_xml().encode())
    assert _fetch_error(cache.fetch(A_URL)).reason == "key-changed"
    assert cache.get(A_URL).public_key == key_a.public_openssh()


def test_fetch_stale_returns_held(cache: IdentityCache, http: FakeHttp, key_a: RsaKey) -> None:
    held = make_identity(key_a, revision=7)
    cache.put(held)
    http.answers[A_URL] = (200, make_identity(key_a, revision=6).to_xml().encode())
    assert _result(cache.fetch(A_URL)) is held


def test_fetch_bad_idurl(cache: IdentityCache) -> None:
    failure = _result(cache.fetch("not a user"))
    assert failure.check(InvalidInput)
