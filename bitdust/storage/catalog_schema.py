"""The catalog's SQLite schema, kept apart so the layout can be read (and migrated) at a glance.

``items.path`` repeats the parent's path on purpose: lookups and subtree listings become one
indexed query instead of a walk, and paths never move (there is no rename). ``ON DELETE CASCADE``
on ``parent`` and ``versions.item`` makes deleting a folder remove its whole tree atomically.
``items.local_path`` is the local file or folder an item was created from or last uploaded from
(NULL when unknown), so listings can show it and its current size as the original did.

``MIGRATIONS`` bring an older database up to ``SCHEMA_VERSION``: version ``n`` lists the statements
that turn an ``n - 1`` database into an ``n`` one; they run once, in the transaction that records
the new version.
"""

from __future__ import annotations

SCHEMA_VERSION = 2

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # Counter of path ids of a key's top-level items.
    "CREATE TABLE IF NOT EXISTS roots (key_id TEXT PRIMARY KEY, next_child INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY,
        key_id TEXT NOT NULL,
        parent INTEGER REFERENCES items(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('file', 'dir')),
        path_id TEXT NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        next_child INTEGER NOT NULL DEFAULT 0,
        local_path TEXT,
        UNIQUE (key_id, path),
        UNIQUE (key_id, path_id)
    )""",
    "CREATE INDEX IF NOT EXISTS items_parent ON items(parent)",
    """CREATE TABLE IF NOT EXISTS versions (
        id INTEGER PRIMARY KEY,
        item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created REAL NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        blocks INTEGER NOT NULL DEFAULT 0,
        ecc_map TEXT NOT NULL,
        block_size INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('uploading', 'ready', 'failed')),
        manifest TEXT NOT NULL DEFAULT '{}',
        UNIQUE (item, name)
    )""",
)

MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE items ADD COLUMN local_path TEXT",),
}
