"""The catalog: every remote path of every key this node holds, with its versions, in SQLite.

Why SQLite: each change (a folder tree created, a version added, a tree deleted) must be all or
nothing even when the process is killed mid-write; SQLite's WAL journal with ``synchronous=FULL``
gives exactly that, and ``foreign_keys=ON`` lets the database itself remove a deleted folder's
children and versions (``ON DELETE CASCADE``) so no orphan can survive a crash either.

Choices (documented here because the API relies on them):

* **path ids** are hierarchical like the original's (``0/1/2``): an item's path id is its
  parent's path id plus ``/<n>``, where ``n`` comes from a per-parent counter that never goes
  back, so a path id is stable and never reused for another item of the same key, even after a
  delete. ``force_path_id`` sets any well-formed id (digits separated by ``/``) that is not used yet
  under that key: a restored or shared catalog keeps the ids its fragments were stored under.
* **parents** are created as folders automatically (``mkdir -p``); a file can never hold children.
* creating an existing path without ``exist_ok`` is an ``InvalidInput``: the error for
  "your input cannot be applied, nothing changed". With ``exist_ok`` the existing item is returned,
  but only if it has the requested type.
* a folder's ``size`` is 0; a file's is the size of its latest ``ready`` version.

Every public method is blocking: the API runs them in the thread pool via ``engine.run_blocking``.
One connection is shared under a lock (``check_same_thread=False``), which serialises writers as
SQLite would anyway and keeps each call's transaction on one connection.
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bitdust.main.errors import InvalidInput, NotFound
from bitdust.storage.catalog_schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION
from bitdust.storage.remote_path import RemotePath

ITEM_TYPES = ("file", "dir")
VERSION_STATES = ("uploading", "ready", "failed")
_PATH_ID_RE = re.compile(r"\d{1,9}(/\d{1,9}){0,511}")
_VERSION_RE = re.compile(r"F\d{14}(AM|PM)(-\d{1,6})?")
_ITEM_COLUMNS = "id, key_id, parent, name, path, type, path_id, size, created, modified, local_path"
_VERSION_COLUMNS = "id, item, name, created, size, blocks, ecc_map, block_size, state, manifest"


def open_connection(db_path: str) -> sqlite3.Connection:
    """The default connection: shared by the API's threads under the catalog's own lock."""
    return sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)


def version_name(timestamp: float) -> str:
    """The original's version name: ``F`` + local ``YYYYMMDDhhmmss`` (12-hour clock) + ``AM``/``PM``."""
    return "F" + time.strftime("%Y%m%d%I%M%S%p", time.localtime(timestamp))


def check_path_id(path_id: str) -> str:
    if not isinstance(path_id, str) or not _PATH_ID_RE.fullmatch(path_id):
        raise InvalidInput(f"invalid path id {path_id!r}: expected numbers separated by '/', e.g. 0/1/2")
    return path_id


class Catalog:
    """The catalog database of one node; open with :meth:`open`, close with :meth:`close`."""

    def __init__(
        self,
        db_path: Path,
        *,
        now: Callable[[], float] = time.time,
        trace: Callable[[str], None] | None = None,
        connect: Callable[[str], sqlite3.Connection] = open_connection,
    ) -> None:
        """``trace`` sees every SQL statement before it runs: for diagnostics and crash tests.

        ``connect`` opens the connection. The catalog sets its durability pragmas itself on whatever
        connection it gets, because a build's defaults differ (Debian's SQLite already defaults to
        ``synchronous=FULL``, others use NORMAL in WAL mode, which can lose the last commits on power
        loss); a test hands in a connection with weaker defaults to prove it.
        """
        self.db_path = Path(db_path)
        self._now = now
        self._lock = threading.RLock()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = connect(str(self.db_path))
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is not None:
                self._migrate(db, int(row[0]))
            for statement in SCHEMA:
                db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('revision', '0')")
        if trace is not None:
            self._conn.set_trace_callback(trace)

    @classmethod
    def open(cls, home_catalog_folder: Path, **kwargs: Any) -> Catalog:
        """The catalog at ``<home>/catalog/catalog.db`` (``home_catalog_folder`` is ``<home>/catalog``)."""
        return cls(Path(home_catalog_folder) / "catalog.db", **kwargs)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _migrate(db: sqlite3.Connection, found: int) -> None:
        """Bring a database of schema ``found`` up to :data:`SCHEMA_VERSION` (in the open transaction)."""
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"the catalog has schema {found}, newer than this program's {SCHEMA_VERSION}")
        if found == SCHEMA_VERSION:
            return
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS.get(version, ()):
                db.execute(statement)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock; any exception rolls everything back."""
        with self._lock:
            if self._conn is None:
                raise RuntimeError("the catalog is closed")
            db = self._conn
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

    @staticmethod
    def _item_row(db: sqlite3.Connection, rp: RemotePath) -> sqlite3.Row | None:
        return db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE key_id = ? AND path = ?", (rp.key_id, rp.path)
        ).fetchone()

    def _require(self, db: sqlite3.Connection, rp: RemotePath) -> sqlite3.Row:
        row = self._item_row(db, rp)
        if row is None:
            raise NotFound(f"remote path {rp} not found")
        return row

    @staticmethod
    def _item_dict(row: sqlite3.Row) -> dict[str, Any]:
        return {name: row[name] for name in _ITEM_COLUMNS.split(", ")}

    @staticmethod
    def _version_dict(row: sqlite3.Row) -> dict[str, Any]:
        result = {name: row[name] for name in _VERSION_COLUMNS.split(", ")}
        result["manifest"] = json.loads(row["manifest"])
        return result

    def _next_path_id(self, db: sqlite3.Connection, key_id: str, parent: sqlite3.Row | None) -> str:
        """Take the parent's (or the key's root) counter until it gives an unused path id."""
        while True:
            if parent is None:
                db.execute("INSERT OR IGNORE INTO roots(key_id, next_child) VALUES (?, 0)", (key_id,))
                n = db.execute("SELECT next_child FROM roots WHERE key_id = ?", (key_id,)).fetchone()[0]
                db.execute("UPDATE roots SET next_child = next_child + 1 WHERE key_id = ?", (key_id,))
                candidate = str(n)
            else:
                n = db.execute("SELECT next_child FROM items WHERE id = ?", (parent["id"],)).fetchone()[0]
                db.execute("UPDATE items SET next_child = next_child + 1 WHERE id = ?", (parent["id"],))
                candidate = f"{parent['path_id']}/{n}"
            if not self._path_id_used(db, key_id, candidate):
                return candidate

    @staticmethod
    def _path_id_used(db: sqlite3.Connection, key_id: str, path_id: str) -> bool:
        row = db.execute("SELECT 1 FROM items WHERE key_id = ? AND path_id = ?", (key_id, path_id)).fetchone()
        return row is not None

    def _insert(
        self, db: sqlite3.Connection, rp: RemotePath, kind: str, parent: sqlite3.Row | None, path_id: str | None
    ) -> sqlite3.Row:
        if path_id is None:
            path_id = self._next_path_id(db, rp.key_id, parent)
        elif self._path_id_used(db, rp.key_id, path_id):
            raise InvalidInput(f"path id {path_id} is already used under key {rp.key_id}")
        stamp = self._now()
        db.execute(
            "INSERT INTO items(key_id, parent, name, path, type, path_id, size, created, modified)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (rp.key_id, parent["id"] if parent else None, rp.name, rp.path, kind, path_id, stamp, stamp),
        )
        return self._require(db, rp)

    # -- items --------------------------------------------------------------------------------

    def create(
        self,
        rp: RemotePath,
        as_folder: bool = False,
        exist_ok: bool = False,
        force_path_id: str | None = None,
        local_path: str | None = None,
    ) -> dict[str, Any]:
        """Create a file or folder entry, and its missing parent folders, in one transaction.

        ``local_path`` records the local file or folder the item stands for (an existing item
        given ``exist_ok`` takes the new one).
        """
        if rp.is_root:
            raise InvalidInput("cannot create the root of a key")
        if force_path_id is not None:
            check_path_id(force_path_id)
        kind = "dir" if as_folder else "file"
        with self._transaction() as db:
            existing = self._item_row(db, rp)
            if existing is not None:
                if not exist_ok:
                    raise InvalidInput(f"remote path {rp} already exists")
                if existing["type"] != kind:
                    raise InvalidInput(f"remote path {rp} already exists as a {existing['type']}")
                if force_path_id is not None and existing["path_id"] != force_path_id:
                    raise InvalidInput(f"remote path {rp} already exists with path id {existing['path_id']}")
                if local_path is not None and existing["local_path"] != local_path:
                    self._set_local_path(db, existing["id"], local_path)
                    existing = self._require(db, rp)
                return self._item_dict(existing)
            parent: sqlite3.Row | None = None
            for folder in rp.ancestors():
                row = self._item_row(db, folder)
                if row is None:
                    row = self._insert(db, folder, "dir", parent, None)
                elif row["type"] != "dir":
                    raise InvalidInput(f"cannot create {rp}: {folder} is a file")
                parent = row
            row = self._insert(db, rp, kind, parent, force_path_id)
            if local_path is not None:
                self._set_local_path(db, row["id"], local_path)
                row = self._require(db, rp)
            return self._item_dict(row)

    @staticmethod
    def _set_local_path(db: sqlite3.Connection, item_id: int, local_path: str) -> None:
        if not isinstance(local_path, str) or not local_path or "\x00" in local_path:
            raise InvalidInput(f"invalid local path {local_path!r}")
        db.execute("UPDATE items SET local_path = ? WHERE id = ?", (local_path, item_id))

    def set_local_path(self, rp: RemotePath, local_path: str) -> dict[str, Any]:
        """Remember ``local_path`` as the local file or folder of the item at ``rp``; returns the item."""
        with self._transaction() as db:
            self._set_local_path(db, self._require(db, rp)["id"], local_path)
            return self._item_dict(self._require(db, rp))

    def exists(self, rp: RemotePath) -> bool:
        if rp.is_root:
            return True
        with self._transaction(write=False) as db:
            return self._item_row(db, rp) is not None

    def info(self, rp: RemotePath) -> dict[str, Any]:
        """The item with its versions (oldest first); NotFound for an unknown path."""
        with self._transaction(write=False) as db:
            item = self._item_dict(self._require(db, rp))
            item["versions"] = self._versions_of(db, item["id"])
            item["childs"] = self._has_children(db, item["id"])
            return item

    def list(
        self, rp: RemotePath | None = None, key_id: str | None = None, recursive: bool = True
    ) -> builtins.list[dict[str, Any]]:
        """Items under ``rp`` (a folder, or a key's root), or of ``key_id``, or of every key.

        Listing a file gives the file itself. Items come sorted by key id, then path, each with
        its versions.
        """
        with self._transaction(write=False) as db:
            if rp is not None and not rp.is_root:
                top = self._require(db, rp)
                if top["type"] == "file":
                    rows = [top]
                elif recursive:
                    rows = db.execute(
                        f"SELECT {_ITEM_COLUMNS} FROM items WHERE key_id = ? AND path > ? AND path < ? ORDER BY path",
                        (rp.key_id, rp.path + "/", rp.path + "0"),  # '0' sorts right after '/'
                    ).fetchall()
                else:
                    rows = db.execute(
                        f"SELECT {_ITEM_COLUMNS} FROM items WHERE parent = ? ORDER BY path", (top["id"],)
                    ).fetchall()
            else:
                key = rp.key_id if rp is not None else key_id
                where, args = ("WHERE key_id = ?", [key]) if key is not None else ("", [])
                if not recursive:
                    where += (" AND" if where else "WHERE") + " parent IS NULL"
                rows = db.execute(f"SELECT {_ITEM_COLUMNS} FROM items {where} ORDER BY key_id, path", args).fetchall()
            result = []
            for row in rows:
                item = self._item_dict(row)
                item["versions"] = self._versions_of(db, item["id"])
                item["childs"] = self._has_children(db, item["id"])
                result.append(item)
            return result

    def key_ids(self) -> builtins.list[str]:
        """Every key id that has at least one item."""
        with self._transaction(write=False) as db:
            return [r[0] for r in db.execute("SELECT DISTINCT key_id FROM items ORDER BY key_id")]

    def delete(self, rp: RemotePath) -> dict[str, Any]:
        """Remove the item, its versions and, for a folder, everything under it; returns the item."""
        if rp.is_root:
            raise InvalidInput("cannot delete the root of a key")
        with self._transaction() as db:
            item = self._item_dict(self._require(db, rp))
            item["versions"] = self._versions_of(db, item["id"])
            removed = db.execute(
                "SELECT COUNT(*) FROM items WHERE key_id = ? AND path > ? AND path < ?",
                (rp.key_id, rp.path + "/", rp.path + "0"),
            ).fetchone()[0]
            db.execute("DELETE FROM items WHERE id = ?", (item["id"],))  # cascades to children and versions
            item["removed_items"] = removed + 1
            return item

    def totals(self) -> dict[str, int]:
        """Counts for ``process_info``'s ``file`` section, in one read transaction.

        ``files_size``/``folders_size`` sum the items' own sizes by type (a folder's is always 0
        here), ``backups_size`` the sizes of every ready version, ``customers`` the distinct key
        owners (``user@host`` of the key ids) that have items.
        """
        with self._transaction(write=False) as db:
            items, files, files_size, folders, folders_size, customers = db.execute(
                "SELECT COUNT(*),"
                " COALESCE(SUM(type = 'file'), 0), COALESCE(SUM(CASE WHEN type = 'file' THEN size END), 0),"
                " COALESCE(SUM(type = 'dir'), 0), COALESCE(SUM(CASE WHEN type = 'dir' THEN size END), 0),"
                " COUNT(DISTINCT substr(key_id, instr(key_id, '$') + 1))"
                " FROM items"
            ).fetchone()
            backups_size = db.execute("SELECT COALESCE(SUM(size), 0) FROM versions WHERE state = 'ready'").fetchone()[0]
        return {
            "items": items,
            "files": files,
            "files_size": files_size,
            "folders": folders,
            "folders_size": folders_size,
            "backups_size": backups_size,
            "customers": customers,
        }

    def revision(self) -> int:
        """Increases with every committed change: lets clients and index sync spot a stale copy."""
        with self._transaction(write=False) as db:
            return int(db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0])

    def integrity_check(self) -> str:
        with self._transaction(write=False) as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- versions -----------------------------------------------------------------------------

    @staticmethod
    def _has_children(db: sqlite3.Connection, item_id: int) -> bool:
        return db.execute("SELECT 1 FROM items WHERE parent = ? LIMIT 1", (item_id,)).fetchone() is not None

    def _versions_of(self, db: sqlite3.Connection, item_id: int) -> builtins.list[dict[str, Any]]:
        rows = db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE item = ? ORDER BY created, id", (item_id,)
        ).fetchall()
        return [self._version_dict(r) for r in rows]

    def add_version(
        self,
        rp: RemotePath,
        *,
        ecc_map: str,
        block_size: int,
        name: str | None = None,
        size: int = 0,
        blocks: int = 0,
        state: str = "uploading",
        manifest: dict[str, Any] | None = None,
        local_path: str | None = None,
    ) -> dict[str, Any]:
        """Record a new version of a file; ``name`` defaults to :func:`version_name` of now.

        ``local_path`` is the file the version is uploaded from; the item remembers it.
        """
        if state not in VERSION_STATES:
            raise InvalidInput(f"invalid version state {state!r}")
        stamp = self._now()
        name = name if name is not None else version_name(stamp)
        if not _VERSION_RE.fullmatch(name):
            raise InvalidInput(f"invalid version name {name!r}: expected e.g. F20261128033000AM")
        with self._transaction() as db:
            item = self._require(db, rp)
            if item["type"] != "file":
                raise InvalidInput(f"{rp} is a folder: only files have versions")
            if db.execute("SELECT 1 FROM versions WHERE item = ? AND name = ?", (item["id"], name)).fetchone():
                raise InvalidInput(f"version {name} of {rp} already exists")
            db.execute(
                "INSERT INTO versions(item, name, created, size, blocks, ecc_map, block_size, state, manifest)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (item["id"], name, stamp, size, blocks, ecc_map, block_size, state, json.dumps(manifest or {})),
            )
            if local_path is not None:
                self._set_local_path(db, item["id"], local_path)
            self._refresh_size(db, item["id"])
            row = db.execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE item = ? AND name = ?", (item["id"], name)
            ).fetchone()
            return self._version_dict(row)

    def set_version_state(
        self,
        rp: RemotePath,
        name: str,
        state: str,
        *,
        size: int | None = None,
        blocks: int | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Move a version to ``state`` (and record its final size, blocks and manifest)."""
        if state not in VERSION_STATES:
            raise InvalidInput(f"invalid version state {state!r}")
        with self._transaction() as db:
            item = self._require(db, rp)
            row = db.execute("SELECT id FROM versions WHERE item = ? AND name = ?", (item["id"], name)).fetchone()
            if row is None:
                raise NotFound(f"version {name} of {rp} not found")
            db.execute("UPDATE versions SET state = ? WHERE id = ?", (state, row["id"]))
            if size is not None:
                db.execute("UPDATE versions SET size = ? WHERE id = ?", (size, row["id"]))
            if blocks is not None:
                db.execute("UPDATE versions SET blocks = ? WHERE id = ?", (blocks, row["id"]))
            if manifest is not None:
                db.execute("UPDATE versions SET manifest = ? WHERE id = ?", (json.dumps(manifest), row["id"]))
            self._refresh_size(db, item["id"])
            return self._version_dict(
                db.execute(f"SELECT {_VERSION_COLUMNS} FROM versions WHERE id = ?", (row["id"],)).fetchone()
            )

    def versions(self, rp: RemotePath) -> builtins.list[dict[str, Any]]:
        with self._transaction(write=False) as db:
            return self._versions_of(db, self._require(db, rp)["id"])

    def _refresh_size(self, db: sqlite3.Connection, item_id: int) -> None:
        """A file's size is its latest ready version's size (0 while none is ready)."""
        row = db.execute(
            "SELECT size FROM versions WHERE item = ? AND state = 'ready' ORDER BY created DESC, id DESC LIMIT 1",
            (item_id,),
        ).fetchone()
        db.execute("UPDATE items SET size = ?, modified = ? WHERE id = ?", (row[0] if row else 0, self._now(), item_id))
