"""The catalog's SQLite connection: durability pragmas, schema migrations and all-or-nothing transactions.

Why SQLite: each change (a folder tree created, a version added, a tree deleted) must be all or
nothing even when the process is killed mid-write; SQLite's WAL journal with ``synchronous=FULL``
gives exactly that, and ``foreign_keys=ON`` lets the database itself remove a deleted folder's
children and versions (``ON DELETE CASCADE``) so no orphan can survive a crash either.

One connection is shared under a lock (``check_same_thread=False``), which serialises writers as
SQLite would anyway and keeps each call's transaction on one connection. Every write transaction
that changed a row also increases the ``revision`` in ``meta``, in the same transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bitdust.storage.catalog_schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION


def open_connection(db_path: str) -> sqlite3.Connection:
    """The default connection: shared by the API's threads under the catalog's own lock."""
    return sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)


class CatalogDb:
    """The open catalog database: its schema is current once this is built; closed by :meth:`close`."""

    def __init__(
        self,
        db_path: Path,
        *,
        trace: Callable[[str], None] | None = None,
        connect: Callable[[str], sqlite3.Connection] = open_connection,
    ) -> None:
        """``trace`` and ``connect``: see :class:`~bitdust.storage.catalog.Catalog`.

        The durability pragmas are set here on whatever connection ``connect`` gives, because a
        build's defaults differ (Debian's SQLite already defaults to ``synchronous=FULL``, others
        use NORMAL in WAL mode, which can lose the last commits on power loss).
        """
        self._lock = threading.RLock()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.conn: sqlite3.Connection | None = connect(str(db_path))
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is not None:
                migrate(db, int(row[0]))
            for statement in SCHEMA:
                db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('revision', '0')")
        if trace is not None:
            self.conn.set_trace_callback(trace)

    def close(self) -> None:
        with self._lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock; any exception rolls everything back."""
        with self._lock:
            if self.conn is None:
                raise RuntimeError("the catalog is closed")
            db = self.conn
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            changes_before = db.total_changes
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                    db.execute("ROLLBACK")
                raise
            if write and db.total_changes != changes_before:
                db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")
            db.execute("COMMIT")


def migrate(db: sqlite3.Connection, found: int) -> None:
    """Bring a database of schema ``found`` up to :data:`SCHEMA_VERSION` (in the open transaction)."""
    if found > SCHEMA_VERSION:
        raise RuntimeError(f"the catalog has schema {found}, newer than this program's {SCHEMA_VERSION}")
    if found == SCHEMA_VERSION:
        return
    for version in range(found + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS.get(version, ()):
            db.execute(statement)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
