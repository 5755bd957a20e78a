"""The Twisted wrappers: work in a thread, Deferred-returning stores called on the 'reactor' thread.

No global reactor: a tiny fake whose thread pool starts real threads and whose ``callFromThread``
queues calls that the test thread (playing the reactor thread) runs.
"""

from __future__ import annotations

import queue
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.storage.codec.deferred import download_deferred, upload_deferred
from bitdust.storage.codec.errors import BlockUnavailable
from bitdust.storage.codec.fragment import FragmentId
from tests.storage.test_codec_helpers import CUSTOMER, KEY_ID, file_hash, session_key


@pytest.fixture
def rsa_key() -> RsaKey:
    return session_key()


class _Pool:
    def callInThreadWithCallback(self, on_result: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        def work() -> None:
            try:
                result = f(*args, **kwargs)
            except BaseException as exc:  # handed to the Deferred's errback, like twisted's pool does
                on_result(False, exc)
            else:
                on_result(True, result)

        threading.Thread(target=work, daemon=True).start()


class FakeReactor:
    def __init__(self) -> None:
        self.calls: queue.Queue = queue.Queue()
        self.pool = _Pool()

    def getThreadPool(self) -> _Pool:
        return self.pool

    def callFromThread(self, f: Any, *args: Any, **kwargs: Any) -> None:
        self.calls.put((f, args, kwargs))

    def run_until(self, d: defer.Deferred) -> Any:
        outcome: list[Any] = []
        d.addBoth(outcome.append)
        while not outcome:
            f, args, kwargs = self.calls.get(timeout=30)
            f(*args, **kwargs)
        return outcome[0]


class MemoryStore:
    """A non-blocking store that insists on being called on the reactor (test) thread."""

    blocking = False

    def __init__(self) -> None:
        self.blobs: dict[FragmentId, bytes] = {}
        self.main = threading.current_thread()

    def _check(self) -> None:
        assert threading.current_thread() is self.main

    def put(self, fragment_id: FragmentId, blob: bytes) -> defer.Deferred:
        self._check()
        self.blobs[fragment_id] = blob
        return defer.succeed(None)

    def get(self, fragment_id: FragmentId) -> defer.Deferred:
        self._check()
        return defer.succeed(self.blobs.get(fragment_id))

    def positions(self, customer: str, path_id: str, version: str, block: int) -> list[int]:
        self._check()
        return sorted(f.position for f in self.blobs if f.block == block)


def test_round_trip_through_the_wrappers(tmp_path: Path, rsa_key) -> None:
    reactor = FakeReactor()
    store = MemoryStore()
    source = tmp_path / "data"
    source.write_bytes(random.Random(5).randbytes(10_000))
    seen: list[Any] = []

    def on_progress(event: Any) -> None:
        assert threading.current_thread() is store.main
        seen.append(event)

    d = upload_deferred(
        reactor,
        source,
        sink=store,
        progress=on_progress,
        key_id=KEY_ID,
        rsa_key=rsa_key,
        ecc="ecc/4x4",
        customer=CUSTOMER,
        path_id="p",
        version="v",
        block_size=4096,
    )
    manifest = reactor.run_until(d)
    assert manifest.block_count == 3 and len(store.blobs) == 12
    for p in (0, 3):
        del store.blobs[FragmentId(CUSTOMER, "p", "v", 1, p)]
    d = download_deferred(
        reactor, manifest, source=store, progress=on_progress, rsa_key=rsa_key, destination_path=tmp_path / "back"
    )
    result = reactor.run_until(d)
    assert result.size == 10_000 and file_hash(tmp_path / "back") == file_hash(source)
    assert [e.direction for e in seen] == ["upload"] * 3 + ["download"] * 3
    del store.blobs[FragmentId(CUSTOMER, "p", "v", 1, 1)]
    d = download_deferred(reactor, manifest, source=store, rsa_key=rsa_key, destination_path=tmp_path / "fail")
    failure = reactor.run_until(d)
    with pytest.raises(BlockUnavailable):
        failure.raiseException()
    assert not (tmp_path / "fail").exists()
