"""A 1 GiB file through the whole pipeline, byte-identical (an end-to-end-sized test, marked e2e).

Data is incompressible (random) so every stage works at full size; a quarter of the positions of
one block is deleted on the way to prove the download still rebuilds from the rest.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from bitdust.storage.codec import pipeline
from bitdust.storage.codec.store import LocalFragmentStore
from tests.storage.test_codec_helpers import CUSTOMER, KEY_ID, fragment_id, session_key

pytestmark = pytest.mark.e2e

GIB = 1024 * 1024 * 1024
CHUNK = 8 * 1024 * 1024


def test_one_gib_round_trip(tmp_path) -> None:
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(source, "wb") as out:
        seed = hashlib.sha256(b"bitdust").digest()
        for index in range(GIB // CHUNK):
            chunk = os.urandom(CHUNK) if index % 2 else (seed * (CHUNK // len(seed)))
            digest.update(chunk)
            out.write(chunk)
    expected = digest.hexdigest()
    store = LocalFragmentStore(tmp_path / "fragments")
    key = session_key()
    manifest = pipeline.upload(
        source, key_id=KEY_ID, rsa_key=key, ecc="ecc/4x4", customer=CUSTOMER, path_id="0/7", version="v1", sink=store
    )
    assert manifest.total_size == GIB
    assert manifest.block_count >= GIB // (4 * 1024 * 1024) // 2  # compressed halves are smaller
    source.unlink()  # the original is gone: only fragments remain
    for position in (0, 3):
        store.delete(fragment_id(manifest, manifest.block_count // 2, position))
    restored = tmp_path / "restored.bin"
    result = pipeline.download(manifest, rsa_key=key, source=store, destination_path=restored)
    assert result.size == GIB
    check = hashlib.sha256()
    with open(restored, "rb") as handle:
        while chunk := handle.read(CHUNK):
            check.update(chunk)
    assert check.hexdigest() == expected
