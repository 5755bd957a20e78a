"""Killing the process in the middle of a write leaves a consistent catalog.

A child process writes many items; its trace hook (called before each SQL statement) signals the
parent through a pipe at a chosen statement of a chosen iteration and then blocks, so the kill
always lands inside an open transaction: deterministic, and bounded by the pipe timeout.
"""

from __future__ import annotations

import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bitdust.storage.catalog import Catalog
from bitdust.storage.remote_path import RemotePath

MASTER = "master$alice@host"
TARGET = 25  # the iteration during which the child is killed

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bitdust.storage.catalog import Catalog
    from bitdust.storage.remote_path import RemotePath

    folder, prefix, occurrence, target, key_id = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    state = {"iteration": -1, "seen": 0}

    def trace(statement):
        if state["iteration"] != target or not statement.lstrip().startswith(prefix):
            return
        state["seen"] += 1
        if state["seen"] == occurrence:
            sys.stdout.write("x")
            sys.stdout.flush()
            sys.stdin.read()  # block until killed

    catalog = Catalog.open(Path(folder), trace=trace)
    for i in range(target + 10):
        state["iteration"] = i
        catalog.create(RemotePath(key_id, f"d{i}/sub/file.txt"))
        catalog.add_version(RemotePath(key_id, f"d{i}/sub/file.txt"), ecc_map="ecc/2x2", block_size=64, size=i)
    """
)


@pytest.mark.parametrize(
    ("prefix", "occurrence", "complete"),
    [
        ("INSERT INTO items", 2, TARGET),  # after d<TARGET> was inserted, before its sub folder
        ("INSERT INTO items", 3, TARGET),  # folders inserted, the file not yet
        ("COMMIT", 1, TARGET),  # the create's commit is about to run
        ("INSERT INTO versions", 1, TARGET + 1),  # the create committed, its version not
        ("UPDATE items SET size", 1, TARGET + 1),  # version inserted, size not yet refreshed
    ],
)
def test_kill_mid_write(tmp_path: Path, prefix: str, occurrence: int, complete: int) -> None:
    folder = tmp_path / "catalog"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), prefix, str(occurrence), str(TARGET), MASTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready, "the child never reached the kill point"
        assert child.stdout is not None and child.stdout.read(1) == b"x"
    finally:
        child.kill()
        child.wait(timeout=60)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()
    catalog = Catalog.open(folder)
    try:
        assert catalog.integrity_check() == "ok"
        assert catalog._conn.execute("PRAGMA foreign_key_check").fetchall() == []
        items = catalog.list(key_id=MASTER)
        tops = sorted(i["path"] for i in items if "/" not in i["path"])
        assert len(tops) == complete
        for n in range(complete):
            assert catalog.info(RemotePath(MASTER, f"d{n}/sub"))["type"] == "dir"
            assert catalog.info(RemotePath(MASTER, f"d{n}/sub/file.txt"))["type"] == "file"
        assert len(items) == 3 * complete  # no half-created tree
        files = [i for i in items if i["type"] == "file"]
        with_versions = [f for f in files if f["versions"]]
        assert len(with_versions) == TARGET  # versions of iterations before the killed one only
        for f in with_versions:
            assert f["size"] == 0  # state "uploading": no ready version yet
            assert len(f["versions"]) == 1
        catalog.create(RemotePath(MASTER, "after/crash"))  # still writable
    finally:
        catalog.close()
