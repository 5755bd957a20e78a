"""Key files: persistence, permissions, atomic writes and corrupt files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bitdust.crypt.key_registry import KeyRecord, KeyRegistry
from bitdust.crypt.rsa_key import RsaKey
from tests.crypt.registry_helpers import MASTER_ID, OWNER, files, make_registry, mode

# -- persistence --------------------------------------------------------------------------------


def test_persistence_across_instances(registry: KeyRegistry, folder: Path, key_b: RsaKey) -> None:
    registry.create("one", size=1024, label="first")
    registry.register("share_x$bob@host.com", key_b.public_key(), creator="http://h/bob.xml")
    registry.create("two", size=1024)
    registry.label(f"two${OWNER}", "second")
    fresh = make_registry(folder)
    assert fresh.load() == 4
    assert [r.to_json(True) for r in fresh.list(sort=True)] == [r.to_json(True) for r in registry.list(sort=True)]
    assert [(r.key_id, r.created) for r in fresh.list(sort=True)] == [
        (r.key_id, r.created) for r in registry.list(sort=True)
    ]
    assert fresh.master() is not None and fresh.master().key.has_private


def test_load_missing_folder(folder: Path) -> None:
    assert make_registry(folder).load() == 0
    assert not folder.exists()


def test_no_temporary_files_are_left(registry: KeyRegistry, folder: Path, key_b: RsaKey) -> None:
    for index in range(5):
        registry.create(f"k{index}", size=1024)
        registry.label(f"k{index}${OWNER}", f"label {index}")
    registry.register("x$bob@host.com", key_b.public_key())
    registry.erase(f"k0${OWNER}")
    assert all(name.endswith(".key") and not name.startswith(".") for name in files(folder))
    assert len(files(folder)) == len(registry) == 6
    assert all(mode(folder / name) == 0o600 for name in files(folder))


def test_failed_write_changes_nothing(registry: KeyRegistry, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = registry.create("k", size=1024, label="old")
    path = folder / f"{record.key_id}.key"
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        registry.label(record.key_id, "new")
    with pytest.raises(OSError, match="disk full"):
        registry.create("other", size=1024)
    monkeypatch.undo()
    assert registry.get(record.key_id).label == "old"
    assert f"other${OWNER}" not in registry
    assert path.read_bytes() == before
    assert files(folder) == sorted([f"{MASTER_ID}.key", f"{record.key_id}.key"])


def _write(folder: Path, name: str, content: bytes | str) -> None:
    data = content.encode() if isinstance(content, str) else content
    (folder / name).write_bytes(data)


def test_corrupt_files_are_skipped(
    registry: KeyRegistry, folder: Path, key_a: RsaKey, key_b: RsaKey, events: list[dict[str, Any]]
) -> None:
    good = registry.create("good", size=1024)
    valid = json.loads((folder / f"{good.key_id}.key").read_text())
    mismatched = dict(valid, key_id="bad6$alice@host.com", alias="bad6", public=key_b.public_openssh())
    bad_documents: dict[str, bytes | str] = {
        "bad1$alice@host.com.key": "{not json",
        "bad2$alice@host.com.key": "[1, 2, 3]",
        "bad3$alice@host.com.key": json.dumps(dict(valid, key_id="bad3$alice@host.com", private=None, public=None)),
        "bad4$alice@host.com.key": json.dumps(dict(valid, key_id="elsewhere$alice@host.com", alias="elsewhere")),
        "bad5$alice@host.com.key": json.dumps(dict(valid, key_id="bad5$alice@host.com", private="garbage")),
        "bad6$alice@host.com.key": json.dumps(mismatched),
        "bad7$alice@host.com.key": b"\xff\xfe\x00 not utf-8",
        "bad8$alice@host.com.key": json.dumps(dict(valid, key_id="bad8$alice@host.com", alias="other")),
        "bad9$alice@host.com.key": json.dumps(dict(valid, key_id="bad9$alice@host.com", created="yesterday")),
        "bada$alice@host.com.key": json.dumps(dict(valid, key_id="BAD$alice@host.com")),
        "badb$alice@host.com.key": json.dumps(dict(valid, key_id="badb$alice@host.com", creator=7)),
        "badc$alice@host.com.key": json.dumps(dict(valid, key_id="badc$alice@host.com", label="a\x00b")),
    }
    for name, content in bad_documents.items():
        _write(folder, name, content)
    _write(folder, ".good$alice@host.com.key.abc123.tmp", "leftover of a crash")
    _write(folder, "README.txt", "not a key")
    (folder / "sub.key").mkdir()
    events.clear()
    fresh = make_registry(folder, events)
    assert fresh.load() == 2
    assert sorted(r.key_id for r in fresh.list()) == sorted([MASTER_ID, good.key_id])
    warnings = [e for e in events if "corrupt" in e.get("log_format", "")]
    assert sorted(Path(e["path"]).name for e in warnings) == sorted(bad_documents)


def test_public_only_file_loads(registry: KeyRegistry, folder: Path, key_b: RsaKey) -> None:
    registry.register("pub$bob@host.com", key_b.public_key())
    fresh = make_registry(folder)
    fresh.load()
    assert not fresh.get("pub$bob@host.com").key.has_private


def test_key_record_is_frozen(registry: KeyRegistry) -> None:
    record = registry.get(MASTER_ID)
    with pytest.raises(AttributeError):
        record.label = "changed"  # type: ignore[misc]
    assert isinstance(record, KeyRecord)
