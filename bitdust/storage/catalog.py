"""The catalog: every remote path of every key this node holds, with its versions, in SQLite.

Why SQLite, and how each change stays all or nothing across a crash: :mod:`bitdust.storage.catalog_db`.
Reading rows and allocating path ids: :mod:`bitdust.storage.catalog_rows`.

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
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bitdust.main.errors import InvalidInput, NotFound
from bitdust.storage.catalog_db import CatalogDb, open_connection
from bitdust.storage.catalog_rows import (
    ITEM_COLUMNS,
    VERSION_COLUMNS,
    has_children,
    item_dict,
    item_row,
    next_path_id,
    path_id_used,
    version_dict,
    versions_of,
)
from bitdust.storage.remote_path import RemotePath

__all__ = ["ITEM_TYPES", "VERSION_STATES", "Catalog", "check_path_id", "open_connection", "version_name"]

ITEM_TYPES = ("file", "dir")
VERSION_STATES = ("uploading", "ready", "failed")
_PATH_ID_RE = re.compile(r"\d{1,9}(/\d{1,9}){0,511}")
_VERSION_RE = re.compile(r"F\d{14}(AM|PM)(-\d{1,6})?")


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
        self._db = CatalogDb(self.db_path, trace=trace, connect=connect)

    @property
    def _conn(self) -> sqlite3.Connection | None:
        """The open connection (None once closed): for diagnostics and tests."""
        return self._db.conn

    @classmethod
    def open(cls, home_catalog_folder: Path, **kwargs: Any) -> Catalog:
        """The catalog at ``<home>/catalog/catalog.db`` (``home_catalog_folder`` is ``<home>/catalog``)."""
        return cls(Path(home_catalog_folder) / "catalog.db", **kwargs)

    def close(self) -> None:
        self._db.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _transaction(self, write: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.transaction(write)

    def _require(self, db: sqlite3.Connection, rp: RemotePath) -> sqlite3.Row:
        row = item_row(db, rp)
        if row is None:
            raise NotFound(f"remote path {rp} not found")
        return row

    def _insert(
        self, db: sqlite3.Connection, rp: RemotePath, kind: str, parent: sqlite3.Row | None, path_id: str | None
    ) -> sqlite3.Row:
        if path_id is None:
            path_id = next_path_id(db, rp.key_id, parent)
        elif path_id_used(db, rp.key_id, path_id):
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
            existing = item_row(db, rp)
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
                return item_dict(existing)
            parent: sqlite3.Row | None = None
            for folder in rp.ancestors():
                row = item_row(db, folder)
                if row is None:
                    row = self._insert(db, folder, "dir", parent, None)
                elif row["type"] != "dir":
                    raise InvalidInput(f"cannot create {rp}: {folder} is a file")
                parent = row
            row = self._insert(db, rp, kind, parent, force_path_id)
            if local_path is not None:
                self._set_local_path(db, row["id"], local_path)
                row = self._require(db, rp)
            return item_dict(row)

    @staticmethod
    def _set_local_path(db: sqlite3.Connection, item_id: int, local_path: str) -> None:
        if not isinstance(local_path, str) or not local_path or "\x00" in local_path:
            raise InvalidInput(f"invalid local path {local_path!r}")
        db.execute("UPDATE items SET local_path = ? WHERE id = ?", (local_path, item_id))

    def set_local_path(self, rp: RemotePath, local_path: str) -> dict[str, Any]:
        """Remember ``local_path`` as the local file or folder of the item at ``rp``; returns the item."""
        with self._transaction() as db:
            self._set_local_path(db, self._require(db, rp)["id"], local_path)
            return item_dict(self._require(db, rp))

    def exists(self, rp: RemotePath) -> bool:
        if rp.is_root:
            return True
        with self._transaction(write=False) as db:
            return item_row(db, rp) is not None

    def info(self, rp: RemotePath) -> dict[str, Any]:
        """The item with its versions (oldest first); NotFound for an unknown path."""
        with self._transaction(write=False) as db:
            item = item_dict(self._require(db, rp))
            item["versions"] = versions_of(db, item["id"])
            item["childs"] = has_children(db, item["id"])
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
                        f"SELECT {ITEM_COLUMNS} FROM items WHERE key_id = ? AND path > ? AND path < ? ORDER BY path",
                        (rp.key_id, rp.path + "/", rp.path + "0"),  # '0' sorts right after '/'
                    ).fetchall()
                else:
                    rows = db.execute(
                        f"SELECT {ITEM_COLUMNS} FROM items WHERE parent = ? ORDER BY path", (top["id"],)
                    ).fetchall()
            else:
                key = rp.key_id if rp is not None else key_id
                where, args = ("WHERE key_id = ?", [key]) if key is not None else ("", [])
                if not recursive:
                    where += (" AND" if where else "WHERE") + " parent IS NULL"
                rows = db.execute(f"SELECT {ITEM_COLUMNS} FROM items {where} ORDER BY key_id, path", args).fetchall()
            result = []
            for row in rows:
                item = item_dict(row)
                item["versions"] = versions_of(db, item["id"])
                item["childs"] = has_children(db, item["id"])
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
            item = item_dict(self._require(db, rp))
            item["versions"] = versions_of(db, item["id"])
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
                f"SELECT {VERSION_COLUMNS} FROM versions WHERE item = ? AND name = ?", (item["id"], name)
            ).fetchone()
            return version_dict(row)

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
            return version_dict(
                db.execute(f"SELECT {VERSION_COLUMNS} FROM versions WHERE id = ?", (row["id"],)).fetchone()
            )

    def versions(self, rp: RemotePath) -> builtins.list[dict[str, Any]]:
        with self._transaction(write=False) as db:
            return versions_of(db, self._require(db, rp)["id"])

    def _refresh_size(self, db: sqlite3.Connection, item_id: int) -> None:
        """A file's size is its latest ready version's size (0 while none is ready)."""
        row = db.execute(
            "SELECT size FROM versions WHERE item = ? AND state = 'ready' ORDER BY created DESC, id DESC LIMIT 1",
            (item_id,),
        ).fetchone()
        db.execute("UPDATE items SET size = ?, modified = ? WHERE id = ?", (row[0] if row else 0, self._now(), item_id))
