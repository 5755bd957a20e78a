"""Lost and damaged fragments: up to floor(N/2) losses per block are survived, one more is not."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitdust.crypt.rsa_key import RsaKey
from bitdust.raid.eccmap import ECC_MAPS, eccmap
from bitdust.storage.codec import pipeline
from bitdust.storage.codec.errors import BlockUnavailable, CorruptBlock, CorruptFragment
from bitdust.storage.codec.fragment import unpack
from bitdust.storage.codec.store import LocalFragmentStore
from tests.storage.test_codec_helpers import file_hash, fragment_id, leftovers, session_key, upload


@pytest.fixture
def rsa_key() -> RsaKey:
    return session_key()


def _loss_patterns(n: int, lost: int, count: int, seed: int) -> list[tuple[int, ...]]:
    """All subsets when few, otherwise a deterministic sample (always including both ends)."""
    combos = list(itertools.combinations(range(n), lost)) if n <= 7 else None
    if combos is not None and len(combos) <= count:
        return combos
    rng = random.Random(seed)
    picks = {tuple(range(lost)), tuple(range(n - lost, n))}
    while len(picks) < count:
        picks.add(tuple(sorted(rng.sample(range(n), lost))))
    return sorted(picks)


@pytest.mark.parametrize("name", list(ECC_MAPS))
def test_losing_half_survives_and_one_more_fails(tmp_path: Path, rsa_key, name: str) -> None:
    ecc = eccmap(name)
    source = tmp_path / "data"
    source.write_bytes(random.Random(name).randbytes(2500))
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, ecc=name, block_size=1024)
    assert manifest.block_count == 3
    originals = {
        (b, p): store.get(fragment_id(manifest, b, p))
        for b in range(manifest.block_count)
        for p in range(ecc.suppliers)
    }
    for case, lost in enumerate(_loss_patterns(ecc.suppliers, ecc.tolerated, 6, ecc.suppliers)):
        for b in range(manifest.block_count):
            # a different loss pattern per block: rotate the positions
            for p in lost:
                store.delete(fragment_id(manifest, b, (p + b) % ecc.suppliers))
        target = tmp_path / f"back{case}"
        pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=target)
        assert file_hash(target) == file_hash(source)
        for (b, p), blob in originals.items():
            store.put(fragment_id(manifest, b, p), blob)
    victim = 1
    for p in range(ecc.tolerated + 1):
        store.delete(fragment_id(manifest, victim, p))
    target = tmp_path / "fails"
    with pytest.raises(BlockUnavailable, match="block 1 ") as caught:
        pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=target)
    assert caught.value.block == victim
    assert leftovers(tmp_path, "fails") == []


def _flip(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    index = rng.randrange(len(data))
    data[index] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))


def test_flipped_bits_are_detected(tmp_path: Path, rsa_key) -> None:
    ecc = eccmap("ecc/7x7")
    source = tmp_path / "data"
    source.write_bytes(random.Random(7).randbytes(5000))
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, ecc=ecc.name, block_size=2048)
    rng = random.Random(42)
    for b in range(manifest.block_count):
        for p in rng.sample(range(ecc.suppliers), ecc.tolerated):
            _flip(store.path_of(fragment_id(manifest, b, p)), rng)
    result = pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "ok")
    assert file_hash(tmp_path / "ok") == file_hash(source)
    assert result.rejected_fragments > 0
    # one more damaged fragment in block 2 leaves only K - 1 good ones
    good = [p for p in range(ecc.suppliers) if store.get(fragment_id(manifest, 2, p)) is not None]
    assert len(good) == ecc.suppliers
    healthy = []
    for p in good:
        try:
            unpack(store.get(fragment_id(manifest, 2, p)) or b"")
            healthy.append(p)
        except CorruptFragment:
            pass
    assert len(healthy) == ecc.required
    _flip(store.path_of(fragment_id(manifest, 2, healthy[0])), rng)
    with pytest.raises(BlockUnavailable, match="block 2 "):
        pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "bad")
    assert leftovers(tmp_path, "bad") == []


def test_fragment_moved_to_another_block_is_rejected(tmp_path: Path, rsa_key) -> None:
    ecc = eccmap("ecc/2x2")
    source = tmp_path / "data"
    source.write_bytes(random.Random(1).randbytes(3000))
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, ecc=ecc.name, block_size=1024)
    for p in range(2):
        store.put(fragment_id(manifest, 0, p), store.get(fragment_id(manifest, 1, p)) or b"")
    with pytest.raises(BlockUnavailable, match="block 0 "):
        pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "x")


def test_forged_but_well_formed_block_is_caught(tmp_path: Path, rsa_key) -> None:
    """Same key, same ids, but a different upload's contents: GCM and the manifest hashes refuse it."""
    source = tmp_path / "data"
    source.write_bytes(b"a" * 100)
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, ecc="ecc/2x2")
    source.write_bytes(b"b" * 100)
    upload(source, store, rsa_key, ecc="ecc/2x2")
    with pytest.raises(CorruptBlock, match="block 0"):
        pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "x")
    assert leftovers(tmp_path, "x") == []


def test_a_manifest_that_disagrees_with_good_fragments_is_refused(tmp_path: Path, rsa_key) -> None:
    """Every fragment is genuine and AES-GCM accepts every block; only the manifest's hashes differ.

    The manifest is what vouches for the blocks (it is backed up to suppliers, so a copy can come
    back altered). Two block entries of equal length swapped: each block still decrypts under its own
    index, and the whole file's hash would even match, so the per-block hash check is what refuses it.
    """
    source = tmp_path / "data"
    source.write_bytes(random.Random(11).randbytes(3000))  # incompressible: three full-length blocks
    store = LocalFragmentStore(tmp_path / "store")
    manifest = upload(source, store, rsa_key, ecc="ecc/2x2", block_size=1024)
    first, second = manifest.blocks[0], manifest.blocks[1]
    assert first.length == second.length and first.sha256 != second.sha256
    swapped = attrs.evolve(manifest, blocks=(second, first, *manifest.blocks[2:]))
    with pytest.raises(CorruptBlock, match="block 0 is corrupt: hash does not match the manifest") as caught:
        pipeline.download(swapped, rsa_key=rsa_key, source=store, destination_path=tmp_path / "x")
    assert caught.value.block == 0
    assert leftovers(tmp_path, "x") == []
    # one altered hash in the last block: the blocks before it are fine, that one is refused
    edited = attrs.evolve(manifest, blocks=(*manifest.blocks[:2], attrs.evolve(manifest.blocks[2], sha256="0" * 64)))
    with pytest.raises(CorruptBlock, match="block 2 is corrupt: hash does not match the manifest"):
        pipeline.download(edited, rsa_key=rsa_key, source=store, destination_path=tmp_path / "y")
    assert leftovers(tmp_path, "y") == []
    pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=tmp_path / "z")
    assert file_hash(tmp_path / "z") == file_hash(source)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(0, 6000),
    block_size=st.integers(64, 2500),
    name=st.sampled_from(["ecc/2x2", "ecc/4x4", "ecc/7x7", "ecc/13x13"]),
    seed=st.integers(0, 2**32),
    extra=st.booleans(),
)
def test_random_sizes_blocks_and_losses(
    tmp_path_factory, rsa_key, size: int, block_size: int, name: str, seed: int, extra: bool
) -> None:
    ecc = eccmap(name)
    root = tmp_path_factory.mktemp("prop")
    rng = random.Random(seed)
    source = root / "data"
    source.write_bytes(rng.randbytes(size))
    store = LocalFragmentStore(root / "store")
    manifest = upload(source, store, rsa_key, ecc=name, block_size=block_size)
    broken_block = rng.randrange(manifest.block_count) if extra else None
    for b in range(manifest.block_count):
        lost = ecc.tolerated + (1 if b == broken_block else 0)
        for p in rng.sample(range(ecc.suppliers), lost):
            store.delete(fragment_id(manifest, b, p))
    target = root / "back"
    if broken_block is None:
        pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=target)
        assert file_hash(target) == file_hash(source)
    else:
        with pytest.raises(BlockUnavailable) as caught:
            pipeline.download(manifest, rsa_key=rsa_key, source=store, destination_path=target)
        assert caught.value.block == broken_block
        assert leftovers(root, "back") == []
