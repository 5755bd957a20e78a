"""The catalog: CRUD, folders, listings, path ids, versions and persistence."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bitdust.main.errors import InvalidInput, NotFound
from bitdust.storage.catalog import Catalog, open_connection, version_name
from bitdust.storage.remote_path import RemotePath, parse_remote_path

MASTER = "master$alice@host"
SHARE = "share_1$alice@host"


def rp(text: str, key_id: str = MASTER) -> RemotePath:
    return parse_remote_path(text, key_id, allow_root=True)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 1
        return self.t


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog.open(tmp_path / "catalog", now=FakeClock())
    yield cat
    cat.close()


def paths(items: list[dict]) -> list[str]:
    return [i["path"] for i in items]


def test_create_file_and_info(catalog: Catalog) -> None:
    item = catalog.create(rp("a.txt"))
    assert item["type"] == "file" and item["name"] == "a.txt" and item["path_id"] == "0"
    assert item["key_id"] == MASTER and item["size"] == 0
    info = catalog.info(rp("a.txt"))
    assert info["versions"] == [] and info["childs"] is False
    assert catalog.exists(rp("a.txt"))
    assert not catalog.exists(rp("b.txt"))
    assert catalog.exists(rp(""))


def test_parents_are_created_like_mkdir_p(catalog: Catalog) -> None:
    item = catalog.create(rp("a/b/c.txt"))
    assert item["path_id"] == "0/0/0"
    assert catalog.info(rp("a"))["type"] == "dir"
    assert catalog.info(rp("a/b"))["path_id"] == "0/0"
    assert catalog.info(rp("a"))["childs"] is True
    assert catalog.create(rp("a/d"), as_folder=True)["path_id"] == "0/1"
    assert catalog.create(rp("e.txt"))["path_id"] == "1"


def test_existing_path(catalog: Catalog) -> None:
    first = catalog.create(rp("docs"), as_folder=True)
    with pytest.raises(InvalidInput, match="already exists"):
        catalog.create(rp("docs"), as_folder=True)
    assert catalog.create(rp("docs"), as_folder=True, exist_ok=True) == first
    with pytest.raises(InvalidInput, match="as a dir"):
        catalog.create(rp("docs"), exist_ok=True)


def test_file_under_a_file_is_refused(catalog: Catalog) -> None:
    catalog.create(rp("a.txt"))
    before = catalog.revision()
    with pytest.raises(InvalidInput, match="is a file"):
        catalog.create(rp("a.txt/b.txt"))
    with pytest.raises(InvalidInput, match="is a file"):
        catalog.create(rp("a.txt/x/y"), as_folder=True)
    assert catalog.revision() == before
    assert paths(catalog.list()) == ["a.txt"]


def test_failed_create_leaves_no_parents(catalog: Catalog) -> None:
    catalog.create(rp("x"), force_path_id="5/5")
    with pytest.raises(InvalidInput, match="already used"):
        catalog.create(rp("new/deep/file"), force_path_id="5/5")
    assert paths(catalog.list()) == ["x"]


def test_force_path_id(catalog: Catalog) -> None:
    assert catalog.create(rp("a"), force_path_id="7/3")["path_id"] == "7/3"
    assert catalog.create(rp("a", SHARE), force_path_id="7/3")["path_id"] == "7/3"  # other key
    assert catalog.create(rp("a"), exist_ok=True, force_path_id="7/3")["path_id"] == "7/3"
    with pytest.raises(InvalidInput, match="path id"):
        catalog.create(rp("a"), exist_ok=True, force_path_id="1")
    for bad in ("", "a", "1//2", "/1", "1/", "-1", "1.5"):
        with pytest.raises(InvalidInput, match="invalid path id"):
            catalog.create(rp("b"), force_path_id=bad)


def test_auto_path_id_skips_forced_ones(catalog: Catalog) -> None:
    catalog.create(rp("forced"), force_path_id="0")
    assert catalog.create(rp("auto"))["path_id"] == "1"


def test_path_ids_are_not_reused_after_delete(catalog: Catalog) -> None:
    assert catalog.create(rp("a"))["path_id"] == "0"
    catalog.delete(rp("a"))
    assert catalog.create(rp("a"))["path_id"] == "1"


def test_list_recursive_and_not(catalog: Catalog) -> None:
    for p in ("a/b/c.txt", "a/b/d.txt", "a/e.txt", "a0.txt", "a-b/x", "z.txt"):
        catalog.create(rp(p))
    catalog.create(rp("s/t", SHARE))
    assert paths(catalog.list(rp("a"))) == ["a/b", "a/b/c.txt", "a/b/d.txt", "a/e.txt"]
    assert paths(catalog.list(rp("a"), recursive=False)) == ["a/b", "a/e.txt"]
    assert paths(catalog.list(rp("a/e.txt"))) == ["a/e.txt"]
    assert paths(catalog.list(key_id=MASTER, recursive=False)) == ["a", "a-b", "a0.txt", "z.txt"]
    assert paths(catalog.list(rp("", SHARE))) == ["s", "s/t"]
    assert len(catalog.list()) == 11
    assert catalog.key_ids() == [MASTER, SHARE]
    with pytest.raises(NotFound):
        catalog.list(rp("nope"))


def test_delete_folder_tree(catalog: Catalog) -> None:
    for p in ("a/b/c.txt", "a/b/d.txt", "a/e.txt", "ab.txt"):
        catalog.create(rp(p))
    catalog.add_version(rp("a/b/c.txt"), ecc_map="ecc/2x2", block_size=1024)
    removed = catalog.delete(rp("a"))
    assert removed["path"] == "a" and removed["removed_items"] == 5
    assert paths(catalog.list()) == ["ab.txt"]
    assert catalog._conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0
    with pytest.raises(NotFound):
        catalog.delete(rp("a"))
    with pytest.raises(NotFound):
        catalog.info(rp("a/b/c.txt"))
    with pytest.raises(InvalidInput):
        catalog.delete(rp(""))


def test_versions(catalog: Catalog) -> None:
    catalog.create(rp("f"))
    v1 = catalog.add_version(rp("f"), ecc_map="ecc/2x2", block_size=4096, name="F20261128033000AM", manifest={"a": 1})
    assert v1["state"] == "uploading" and v1["manifest"] == {"a": 1}
    assert catalog.info(rp("f"))["size"] == 0
    done = catalog.set_version_state(rp("f"), "F20261128033000AM", "ready", size=123, blocks=2)
    assert done["state"] == "ready" and done["size"] == 123 and done["blocks"] == 2
    assert catalog.info(rp("f"))["size"] == 123
    v2 = catalog.add_version(rp("f"), ecc_map="ecc/4x4", block_size=4096)
    assert v2["name"].startswith("F") and v2["name"][-2:] in ("AM", "PM")
    assert [v["name"] for v in catalog.versions(rp("f"))] == ["F20261128033000AM", v2["name"]]
    catalog.set_version_state(rp("f"), v2["name"], "failed", manifest={"why": "x"})
    assert catalog.info(rp("f"))["size"] == 123
    with pytest.raises(InvalidInput, match="already exists"):
        catalog.add_version(rp("f"), ecc_map="ecc/2x2", block_size=1, name="F20261128033000AM")
    with pytest.raises(InvalidInput, match="invalid version name"):
        catalog.add_version(rp("f"), ecc_map="ecc/2x2", block_size=1, name="nope")
    with pytest.raises(InvalidInput, match="state"):
        catalog.set_version_state(rp("f"), v2["name"], "lost")
    with pytest.raises(NotFound):
        catalog.set_version_state(rp("f"), "F20000101000000AM", "ready")
    catalog.create(rp("d"), as_folder=True)
    with pytest.raises(InvalidInput, match="folder"):
        catalog.add_version(rp("d"), ecc_map="ecc/2x2", block_size=1)


def test_version_name_format() -> None:
    name = version_name(1_700_000_000)
    assert len(name) == 17 and name[0] == "F" and name[1:15].isdigit()


def test_persistence_across_reopen(tmp_path: Path) -> None:
    cat = Catalog.open(tmp_path / "catalog")
    cat.create(rp("a/b.txt"))
    cat.add_version(rp("a/b.txt"), ecc_map="ecc/2x2", block_size=8, name="F20260101010101AM", state="ready", size=9)
    revision = cat.revision()
    cat.close()
    assert (tmp_path / "catalog" / "catalog.db").exists()
    again = Catalog.open(tmp_path / "catalog")
    try:
        assert paths(again.list()) == ["a", "a/b.txt"]
        assert again.info(rp("a/b.txt"))["size"] == 9
        assert again.revision() == revision
        assert again.create(rp("c"))["path_id"] == "1"
        assert again.integrity_check() == "ok"
        mode = again._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    finally:
        again.close()


def test_revision_counts_changes_only(catalog: Catalog) -> None:
    start = catalog.revision()
    catalog.create(rp("a"))
    assert catalog.revision() == start + 1
    catalog.create(rp("a"), exist_ok=True)
    catalog.info(rp("a"))
    assert catalog.revision() == start + 1


def test_closed_catalog_refuses(tmp_path: Path) -> None:
    cat = Catalog.open(tmp_path)
    cat.close()
    cat.close()
    with pytest.raises(RuntimeError):
        cat.exists(rp("a"))


def test_safe_from_many_threads(catalog: Catalog) -> None:
    import threading

    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                catalog.create(rp(f"shared/t{n}/f{i}"))
                catalog.list(rp("shared"), recursive=False)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    items = catalog.list()
    assert len(items) == 1 + 8 + 8 * 20
    assert len({i["path_id"] for i in items}) == len(items)


# -- local paths and schema migration ----------------------------------------------------------


def test_items_remember_the_local_path_they_were_created_or_uploaded_from(catalog: Catalog) -> None:
    assert catalog.create(rp("a/b.txt"))["local_path"] is None
    assert catalog.info(rp("a"))["local_path"] is None
    made = catalog.create(rp("c.txt"), local_path="/home/alice/c.txt")
    assert made["local_path"] == "/home/alice/c.txt"
    again = catalog.create(rp("c.txt"), exist_ok=True, local_path="/home/alice/moved/c.txt")
    assert again["local_path"] == "/home/alice/moved/c.txt"
    catalog.add_version(rp("a/b.txt"), ecc_map="ecc/2x2", block_size=1024, local_path="/tmp/b.txt")
    assert catalog.info(rp("a/b.txt"))["local_path"] == "/tmp/b.txt"
    assert catalog.set_local_path(rp("a"), "/tmp/a")["local_path"] == "/tmp/a"
    assert {i["path"]: i["local_path"] for i in catalog.list()} == {
        "a": "/tmp/a",
        "a/b.txt": "/tmp/b.txt",
        "c.txt": "/home/alice/moved/c.txt",
    }
    revision = catalog.revision()
    for bad in ("", "x\x00y"):
        with pytest.raises(InvalidInput):
            catalog.set_local_path(rp("a"), bad)
    assert catalog.revision() == revision and catalog.info(rp("a"))["local_path"] == "/tmp/a"


def test_a_schema_1_catalog_is_migrated_and_keeps_its_items(tmp_path: Path) -> None:
    import sqlite3

    db_path = tmp_path / "catalog" / "catalog.db"
    db_path.parent.mkdir()
    old = sqlite3.connect(db_path)
    old.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '1'), ('revision', '7');
        CREATE TABLE roots (key_id TEXT PRIMARY KEY, next_child INTEGER NOT NULL);
        CREATE TABLE items (id INTEGER PRIMARY KEY, key_id TEXT NOT NULL,
            parent INTEGER REFERENCES items(id) ON DELETE CASCADE, name TEXT NOT NULL, path TEXT NOT NULL,
            type TEXT NOT NULL, path_id TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
            modified REAL NOT NULL, next_child INTEGER NOT NULL DEFAULT 0,
            UNIQUE (key_id, path), UNIQUE (key_id, path_id));
        INSERT INTO items(key_id, name, path, type, path_id, created, modified)
            VALUES ('master$alice@host', 'old.txt', 'old.txt', 'file', '0', 1, 1);
        """
    )
    old.commit()
    old.close()
    cat = Catalog.open(tmp_path / "catalog")
    try:
        assert cat.info(rp("old.txt"))["local_path"] is None
        assert cat.set_local_path(rp("old.txt"), "/tmp/old.txt")["local_path"] == "/tmp/old.txt"
        assert cat.revision() > 7
    finally:
        cat.close()
    reopened = Catalog.open(tmp_path / "catalog")
    try:
        revision = reopened.revision()
        assert reopened.info(rp("old.txt"))["local_path"] == "/tmp/old.txt"
    finally:
        reopened.close()
    again = Catalog.open(tmp_path / "catalog")
    try:
        assert again.revision() == revision  # opening an up-to-date catalog changes nothing
    finally:
        again.close()


def test_totals_count_items_sizes_and_customers(catalog: Catalog) -> None:
    assert catalog.totals() == {
        "items": 0,
        "files": 0,
        "files_size": 0,
        "folders": 0,
        "folders_size": 0,
        "backups_size": 0,
        "customers": 0,
    }
    catalog.create(rp("a/b.txt"))
    catalog.create(rp("c.txt"))
    catalog.create(rp("s/t.txt", SHARE))
    catalog.create(rp("x.txt", "master$bob@host"))
    catalog.add_version(rp("a/b.txt"), ecc_map="ecc/2x2", block_size=1024, size=10, state="ready")
    catalog.add_version(rp("c.txt"), ecc_map="ecc/2x2", block_size=1024, size=3, state="ready")
    catalog.add_version(rp("c.txt"), ecc_map="ecc/2x2", block_size=1024, size=99, name="F20250101010101AM")
    assert catalog.totals() == {
        "items": 6,
        "files": 4,
        "files_size": 13,
        "folders": 2,
        "folders_size": 0,
        "backups_size": 13,
        "customers": 2,
    }


def test_durability_is_set_by_the_catalog_not_left_to_the_build(tmp_path: Path) -> None:
    """Read back from the open connection: WAL, synchronous=FULL and foreign keys, whatever the defaults.

    The connection handed in starts as another build's SQLite would (synchronous NORMAL or OFF, no
    foreign keys), so the test fails if the catalog stops setting any of them itself.
    """
    opened: list[sqlite3.Connection] = []

    def weaker_build(db_path: str) -> sqlite3.Connection:
        conn = open_connection(db_path)
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")
        opened.append(conn)
        return conn

    cat = Catalog.open(tmp_path / "catalog", connect=weaker_build)
    try:
        (conn,) = opened
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        cat.create(rp("/a/b.txt"))
        assert cat.exists(rp("/a/b.txt"))
    finally:
        cat.close()
