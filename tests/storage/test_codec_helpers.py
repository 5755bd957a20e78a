"""Helpers shared by the codec tests (no tests here): one RSA key per session, uploads, tree hashes.

A module rather than a conftest.py so the codec tests own every file they need."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from bitdust.crypt.rsa_key import RsaKey
from bitdust.storage.codec import pipeline
from bitdust.storage.codec.fragment import FragmentId
from bitdust.storage.codec.manifest import Manifest
from bitdust.storage.codec.store import LocalFragmentStore

KEY_ID = "master$alice@id.example.com"
CUSTOMER = "alice@id.example.com"


@functools.cache
def session_key() -> RsaKey:
    """A 1024-bit key generated once per test session: big enough for OAEP, fast to make."""
    return RsaKey.generate(1024)


def upload(source: Path, store: LocalFragmentStore, rsa_key: RsaKey, **kwargs: Any) -> Manifest:
    options: dict[str, Any] = {"ecc": "ecc/4x4", "block_size": 64 * 1024, "path_id": "0/1", "version": "v1"}
    options.update(kwargs)
    return pipeline.upload(source, key_id=KEY_ID, rsa_key=rsa_key, customer=CUSTOMER, sink=store, **options)


def fragment_id(manifest: Manifest, block: int, position: int) -> FragmentId:
    return FragmentId(manifest.customer, manifest.path_id, manifest.version, block, position)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path) -> list[tuple]:
    """Names, kinds, modes, mtimes and contents of everything under ``root``."""
    out: list[tuple] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        st = path.lstat()
        if path.is_symlink():
            out.append((rel, "link", os.readlink(path)))
        elif path.is_dir():
            out.append((rel, "dir", st.st_mode & 0o777))
        else:
            out.append((rel, "file", st.st_mode & 0o777, int(st.st_mtime), file_hash(path)))
    return out


def leftovers(folder: Path, name: str) -> list[str]:
    return [entry for entry in os.listdir(folder) if entry.startswith(name)]
