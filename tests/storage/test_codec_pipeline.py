"""Round trips through the whole pipeline, on a local fragment store."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.errors import InvalidInput
from bitdust.raid.eccmap import ECC_MAPS
from bitdust.storage.codec import pipeline
from bitdust.storage.codec.manifest import Manifest, Progress
from bitdust.storage.codec.store import LocalFragmentStore
from tests.storage.test_codec_helpers import file_hash, leftovers, session_key, tree_digest, upload
from tests.storage.test_fragments_tar import make_tree


@pytest.fixture
def rsa_key() -> RsaKey:
    return session_key()


BLOCK = 64 * 1024


@pytest.mark.parametrize("size", [0, 1, BLOCK, 5 * BLOCK + 17])
def test_file_round_trip(tmp_path: Path, rsa_key, size: int) -> None:
    source = tmp_path / "source.bin"
    # incompressible data, so the compressed stream really spans several blocks
    source.write_bytes(random.Random(size).randbytes(size))
    store = LocalFragmentStore(tmp_path / "store")
    seen: list[Progress] = []
    manifest = upload(source, store, rsa_key, progress=seen.append)
    assert manifest.total_size == size and manifest.kind == "file"
    assert manifest.block_count == max(1, -(-manifest.stored_size // BLOCK))
    assert [p.blocks for p in seen] == list(range(1, manifest.block_count + 1))
    target = tmp_path / "out" / "restored.bin"
    target.parent.mkdir()
    result = pipeline.download(manifest.to_json(), rsa_key=rsa_key, source=store, destination_path=target)
    assert file_hash(target) == file_hash(source)
    assert result.size == size and result.rejected_fragments == 0
    assert os.listdir(target.parent) == ["restored.bin"]


def test_compressible_file_and_exact_block(tmp_path: Path, rsa_key) -> None:
    source = tmp_path / "text"
    source.write_bytes(b"all work and no play " * 50_000)
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, block_size=1000)
    assert manifest.stored_size < source.stat().st_size // 10
    assert all(block.length == 1000 for block in manifest.blocks[:-1])
    pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "back")
    assert file_hash(tmp_path / "back") == file_hash(source)


def test_folder_round_trip(tmp_path: Path, rsa_key) -> None:
    source = tmp_path / "tree"
    source.mkdir()
    make_tree(source)
    (source / "big.bin").write_bytes(random.Random(3).randbytes(3 * BLOCK))
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, ecc="ecc/7x7")
    assert manifest.kind == "folder" and manifest.block_count > 1
    target = tmp_path / "restored"
    pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=target)
    assert tree_digest(target) == tree_digest(source)
    assert leftovers(tmp_path, "restored") == ["restored"]


@pytest.mark.parametrize("name", list(ECC_MAPS))
def test_every_ecc_map(tmp_path: Path, rsa_key, name: str) -> None:
    source = tmp_path / "small"
    source.write_bytes(random.Random(name).randbytes(3000))
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, ecc=name, block_size=1024)
    assert manifest.ecc == name
    pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "back")
    assert file_hash(tmp_path / "back") == file_hash(source)


def test_manifest_json_round_trip(tmp_path: Path, rsa_key) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"hello")
    manifest = upload(source, LocalFragmentStore(tmp_path / "store"), rsa_key)
    data = json.loads(manifest.to_json())
    assert data["block_count"] == 1 and data["ecc"] == "ecc/4x4" and data["total_size"] == 5
    assert Manifest.from_json(manifest.to_json()) == manifest
    for broken in ({**data, "format": 9}, {**data, "ecc": "ecc/5x5"}, {**data, "block_count": 3}, {"format": 1}):
        with pytest.raises(InvalidInput):
            Manifest.from_dict(broken)


def test_bad_inputs(tmp_path: Path, rsa_key) -> None:
    store = LocalFragmentStore(tmp_path / "store")
    with pytest.raises(InvalidInput):
        upload(tmp_path / "missing", store, rsa_key)
    source = tmp_path / "f"
    source.write_bytes(b"x")
    with pytest.raises(InvalidInput):
        upload(source, store, rsa_key, ecc="ecc/3x3")
    with pytest.raises(InvalidInput):
        upload(source, store, rsa_key, block_size=0)
    manifest = upload(source, store, rsa_key)
    (tmp_path / "dir").mkdir()
    with pytest.raises(InvalidInput):
        pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "dir")


def test_empty_folder_and_download_progress(tmp_path: Path, rsa_key) -> None:
    source = tmp_path / "empty"
    source.mkdir()
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, block_size=1024)
    seen: list[Progress] = []
    target = tmp_path / "restored"
    pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=target, progress=seen.append)
    assert target.is_dir() and os.listdir(target) == []
    assert [(p.direction, p.blocks, p.total_blocks) for p in seen][-1] == (
        "download",
        manifest.block_count,
        manifest.block_count,
    )
