"""The local value store: every layer's values in memory, persisted in SQLite under ``dht/``.

Memory is what the node answers from; the database only lets a restarted node keep what it was
given (and keep republishing what it published itself). Database writes are batched and run one
batch at a time through the injected ``run_blocking`` (the engine's thread pool), so the reactor
never waits on the disk and writes never overtake each other.

What peers store is bounded per sender and in total; :mod:`bitdust.dht.quota` decides what a
full store pushes out (:meth:`DhtStore.admit`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
from twisted.internet import defer
from twisted.logger import Logger

from bitdust.dht.quota import Ledger, record_rank

SCHEMA = """
CREATE TABLE IF NOT EXISTS dht_values (
    layer INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    record_type TEXT NOT NULL,
    stored_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    publisher BLOB NOT NULL,
    original INTEGER NOT NULL,
    revision INTEGER,
    sender TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (layer, key)
)
"""
COLUMNS = "layer, key, value, record_type, stored_at, expires_at, publisher, original, revision, sender"


@attrs.frozen
class StoredValue:
    """One value as this node holds it; ``original`` marks values this node published itself.

    ``sender``: who it is charged to (:func:`~bitdust.dht.limits.sender_of` of the STORE's source;
    empty for our own values and for rows written before senders were recorded).
    """

    layer: int
    key: str
    value: bytes
    record_type: str
    stored_at: float
    expires_at: float
    publisher: bytes
    original: bool = False
    revision: int | None = None
    sender: str = ""

    def ttl(self, now: float) -> int:
        """Whole seconds left (at least 1 while alive): what a copy given to another node keeps."""
        return max(1, int(self.expires_at - now))

    def to_json(self, now: float) -> dict[str, Any]:
        try:
            value: Any = self.value.decode("utf-8")
        except UnicodeDecodeError:
            value = self.value.hex()
        return {
            "layer_id": self.layer,
            "key": self.key,
            "value": value,
            "record_type": self.record_type,
            "stored_at": self.stored_at,
            "expires_at": self.expires_at,
            "expires_in": round(self.expires_at - now, 3),
            "original": self.original,
            "revision": self.revision,
        }


#: one write of the batch :meth:`SqliteBackend.apply` makes: ``("put", value)`` or ``("delete", (layer, key))``
Operation = tuple[str, StoredValue | tuple[int, str]]


class SqliteBackend:
    """The database file; every method is blocking and serialized by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        with self._lock:
            if self._db is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(self.path), check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(SCHEMA)
                columns = {row[1] for row in self._db.execute("PRAGMA table_info(dht_values)")}
                if "sender" not in columns:  # a database of a version that did not record senders
                    self._db.execute("ALTER TABLE dht_values ADD COLUMN sender TEXT NOT NULL DEFAULT ''")
                self._db.commit()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def load(self) -> list[StoredValue]:
        self.open()
        with self._lock:
            assert self._db is not None
            rows = self._db.execute(f"SELECT {COLUMNS} FROM dht_values").fetchall()
        return [
            StoredValue(
                layer=r[0],
                key=r[1],
                value=bytes(r[2]),
                record_type=r[3],
                stored_at=r[4],
                expires_at=r[5],
                publisher=bytes(r[6]),
                original=bool(r[7]),
                revision=r[8],
                sender=r[9],
            )
            for r in rows
        ]

    def apply(self, operations: list[Operation]) -> None:
        """Write a batch: ``("put", StoredValue)`` and ``("delete", (layer, key))`` in order."""
        self.open()
        with self._lock:
            assert self._db is not None
            for op, item in operations:
                if op == "put":
                    assert isinstance(item, StoredValue)  # what _queue pairs with "put"
                    self._db.execute(
                        f"INSERT OR REPLACE INTO dht_values ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            item.layer,
                            item.key,
                            item.value,
                            item.record_type,
                            item.stored_at,
                            item.expires_at,
                            item.publisher,
                            int(item.original),
                            item.revision,
                            item.sender,
                        ),
                    )
                else:
                    assert isinstance(item, tuple)  # what _queue pairs with "delete": (layer, key)
                    self._db.execute("DELETE FROM dht_values WHERE layer = ? AND key = ?", item)
            self._db.commit()


def _run_inline(fn: Callable[..., Any], *args: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args)


class DhtStore:
    """Values of every layer; ``max_items`` and ``max_per_sender`` bound what strangers can make us keep."""

    def __init__(
        self,
        *,
        backend: SqliteBackend | None = None,
        run_blocking: Callable[..., defer.Deferred[Any]] | None = None,
        max_items: int = 50_000,
        max_per_sender: int = 1000,
        log: Logger | None = None,
    ) -> None:
        self._values: dict[tuple[int, str], StoredValue] = {}
        self._ledger = Ledger()
        self.max_per_sender = max_per_sender
        #: values pushed out to make room for others (see bitdust.dht.quota)
        self.evicted = 0
        self._backend = backend
        self._run_blocking = run_blocking or _run_inline
        self._pending: list[Operation] = []
        self._flushing: defer.Deferred[None] | None = None
        self.max_items = max_items
        self._log = log or Logger()

    def __len__(self) -> int:
        return len(self._values)

    def load(self) -> int:
        """Blocking: read the database into memory (once, at start)."""
        if self._backend is None:
            return 0
        for item in self._backend.load():
            self._values[(item.layer, item.key)] = item
            self._charge(item)
        return len(self._values)

    def get(self, layer: int, key: str, now: float) -> StoredValue | None:
        item = self._values.get((layer, key))
        if item is None or item.expires_at <= now:
            return None
        return item

    def refusal(self, layer: int, key: str, sender: str, record_type: str) -> tuple[str, str] | None:
        """Why a value from ``sender`` cannot be kept now: ``(code, detail)``, or None when it can."""
        if self._ledger.charged_to((layer, key)) != sender and self._ledger.total(sender) >= self.max_per_sender:
            return "store-quota", f"this node keeps at most {self.max_per_sender} values from one host"
        if (layer, key) in self._values or len(self._values) < self.max_items:
            return None
        if self._ledger.victim(record_rank(record_type), sender) is None:
            return "store-full", "this node stores no more values"
        return None

    def admit(self, item: StoredValue) -> tuple[str, str] | None:
        """Keep a value a peer sent, pushing out another if the store is full; the refusal otherwise."""
        refused = self.refusal(item.layer, item.key, item.sender, item.record_type)
        if refused is not None:
            return refused
        if (item.layer, item.key) not in self._values and len(self._values) >= self.max_items:
            victim = self._ledger.victim(record_rank(item.record_type), item.sender)
            if victim is not None:
                self.delete(*victim)
                self.evicted += 1
        self.put(item)
        return None

    def put(self, item: StoredValue) -> None:
        """Keep ``item`` whatever the limits (our own values, or one :meth:`admit` made room for)."""
        self._values[(item.layer, item.key)] = item
        self._charge(item)
        self._queue("put", item)

    def _charge(self, item: StoredValue) -> None:
        if item.original:
            self._ledger.release((item.layer, item.key))
        else:
            self._ledger.charge((item.layer, item.key), record_rank(item.record_type), item.sender)

    def sender_count(self, sender: str) -> int:
        """How many values are charged to ``sender``."""
        return self._ledger.total(sender)

    def delete(self, layer: int, key: str) -> bool:
        if self._values.pop((layer, key), None) is None:
            return False
        self._ledger.release((layer, key))
        self._queue("delete", (layer, key))
        return True

    def expire(self, now: float) -> list[StoredValue]:
        """Drop every expired value; returns them."""
        gone = [item for item in self._values.values() if item.expires_at <= now]
        for item in gone:
            self.delete(item.layer, item.key)
        return gone

    def items(self, layer: int | None = None) -> Iterator[StoredValue]:
        for item in list(self._values.values()):
            if layer is None or item.layer == layer:
                yield item

    def count(self, layer: int) -> int:
        return sum(1 for item in self._values.values() if item.layer == layer)

    # -- persistence ---------------------------------------------------------------------------

    def _queue(self, op: str, item: StoredValue | tuple[int, str]) -> None:
        if self._backend is None:
            return
        self._pending.append((op, item))
        if self._flushing is None:
            self._flush()

    def _flush(self) -> None:
        assert self._backend is not None
        batch, self._pending = self._pending, []
        d = self._run_blocking(self._backend.apply, batch)
        self._flushing = d

        def done(_: Any) -> None:
            self._flushing = None
            if self._pending:
                self._flush()

        d.addErrback(lambda f: self._log.failure("cannot write the DHT database", failure=f))
        d.addBoth(done)

    def flushed(self) -> defer.Deferred[None]:
        """Fires once every queued write is on disk (used before closing)."""
        waiter: defer.Deferred[None] = defer.Deferred()

        def check(_: Any = None) -> None:
            if self._flushing is None and not self._pending:
                waiter.callback(None)
            elif self._flushing is not None:
                self._flushing.addBoth(check_again)

        def check_again(result: object) -> object:
            check()
            return result

        check()
        return waiter

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
