"""Reading the catalog's tables: item and version rows as the API's dicts, and path id allocation.

Every function takes the connection of a transaction the caller holds
(:meth:`~bitdust.storage.catalog_db.CatalogDb.transaction`) and never commits itself.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from bitdust.storage.remote_path import RemotePath

ITEM_COLUMNS = "id, key_id, parent, name, path, type, path_id, size, created, modified, local_path"
VERSION_COLUMNS = "id, item, name, created, size, blocks, ecc_map, block_size, state, manifest"


def item_row(db: sqlite3.Connection, rp: RemotePath) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        f"SELECT {ITEM_COLUMNS} FROM items WHERE key_id = ? AND path = ?", (rp.key_id, rp.path)
    ).fetchone()
    return row


def item_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {name: row[name] for name in ITEM_COLUMNS.split(", ")}


def version_dict(row: sqlite3.Row) -> dict[str, Any]:
    result = {name: row[name] for name in VERSION_COLUMNS.split(", ")}
    result["manifest"] = json.loads(row["manifest"])
    return result


def next_path_id(db: sqlite3.Connection, key_id: str, parent: sqlite3.Row | None) -> str:
    """Take the parent's (or the key's root) counter until it gives an unused path id.

    The counters never go back, so a path id is never reused for another item of the same key.
    """
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
        if not path_id_used(db, key_id, candidate):
            return candidate


def path_id_used(db: sqlite3.Connection, key_id: str, path_id: str) -> bool:
    row = db.execute("SELECT 1 FROM items WHERE key_id = ? AND path_id = ?", (key_id, path_id)).fetchone()
    return row is not None


def has_children(db: sqlite3.Connection, item_id: int) -> bool:
    return db.execute("SELECT 1 FROM items WHERE parent = ? LIMIT 1", (item_id,)).fetchone() is not None


def versions_of(db: sqlite3.Connection, item_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        f"SELECT {VERSION_COLUMNS} FROM versions WHERE item = ? ORDER BY created, id", (item_id,)
    ).fetchall()
    return [version_dict(r) for r in rows]
