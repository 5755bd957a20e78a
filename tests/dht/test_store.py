from __future__ import annotations

from pathlib import Path

from bitdust.dht.store import DhtStore, SqliteBackend, StoredValue


def item(key: str, layer: int = 0, expires: float = 100.0, **kw) -> StoredValue:
    return StoredValue(
        layer=layer,
        key=key,
        value=b'{"type":"skip_validation"}',
        record_type="skip_validation",
        stored_at=0.0,
        expires_at=expires,
        publisher=b"p" * 20,
        **kw,
    )


def test_values_persist_in_sqlite_and_come_back(tmp_path: Path) -> None:
    path = tmp_path / "dht" / "dht.sqlite"
    store = DhtStore(backend=SqliteBackend(path))
    store.put(item("a"))
    store.put(item("b", layer=3, original=True, revision=7))
    store.put(item("c"))
    assert store.delete(0, "c")
    store.close()
    again = DhtStore(backend=SqliteBackend(path))
    assert again.load() == 2
    assert again.get(3, "b", now=1.0) == item("b", layer=3, original=True, revision=7)
    assert again.get(0, "c", now=1.0) is None
    again.close()


def test_expired_values_are_gone(tmp_path: Path) -> None:
    store = DhtStore(backend=SqliteBackend(tmp_path / "x.sqlite"))
    store.put(item("old", expires=10.0))
    store.put(item("new", expires=50.0))
    assert store.get(0, "old", now=10.0) is None  # not answered once expired
    assert [i.key for i in store.expire(now=20.0)] == ["old"]
    assert store.count(0) == 1
    store.close()
    assert {i.key for i in SqliteBackend(tmp_path / "x.sqlite").load()} == {"new"}


def test_the_store_is_bounded() -> None:
    store = DhtStore(max_items=2)
    store.put(item("a", sender="10.0.0.1"))
    store.put(item("b", sender="10.0.0.1"))
    assert store.refusal(0, "c", "10.0.0.1", "skip_validation") == ("store-full", "this node stores no more values")
    assert store.refusal(0, "a", "10.0.0.1", "skip_validation") is None  # replacing a value is always possible


def test_writes_are_serialized_through_run_blocking(tmp_path: Path) -> None:
    from twisted.internet import defer

    queued: list = []

    def run_blocking(fn, *args):
        d = defer.Deferred()
        queued.append((fn, args, d))
        return d

    store = DhtStore(backend=SqliteBackend(tmp_path / "y.sqlite"), run_blocking=run_blocking)
    store.put(item("a"))
    store.put(item("b"))
    store.put(item("c"))
    assert len(queued) == 1  # one batch at a time
    done = store.flushed()
    fn, args, d = queued.pop()
    d.callback(fn(*args))
    assert len(queued) == 1 and len(queued[0][1][0]) == 2  # the rest in one batch
    fn, args, d = queued.pop()
    d.callback(fn(*args))
    assert done.called
    assert {i.key for i in SqliteBackend(tmp_path / "y.sqlite").load()} == {"a", "b", "c"}
