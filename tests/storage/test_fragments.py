from __future__ import annotations

import random
from pathlib import Path

import pytest

from bitdust.storage.codec.errors import CorruptFragment
from bitdust.storage.codec.fragment import Fragment, FragmentId, block_associated_data, pack, unpack
from bitdust.storage.codec.store import LocalFragmentStore

FID = FragmentId("alice@id.example.com_8084", "0/1/2", "F20260101_ü", 7, 3)


def _fragment(fid: FragmentId = FID) -> Fragment:
    return Fragment(fid, "master$alice@id.example.com", 7, 4, 40, b"0123456789")


def test_pack_unpack_round_trip() -> None:
    blob = pack(_fragment())
    back = unpack(blob, expected=FID, suppliers=7, required=4, key_id="master$alice@id.example.com")
    assert back == _fragment()


def test_file_name_is_stable_and_reversible() -> None:
    name = FID.file_name()
    assert "/" not in name and name == FID.file_name()
    assert FragmentId.from_file_name(name) == FID
    with pytest.raises(ValueError):
        FragmentId.from_file_name("x_y.bdf")


def test_every_single_bit_flip_is_caught() -> None:
    blob = pack(_fragment())
    for index in range(len(blob)):
        for bit in (0, 5):
            damaged = bytearray(blob)
            damaged[index] ^= 1 << bit
            with pytest.raises(CorruptFragment):
                unpack(bytes(damaged), expected=FID)


def test_truncated_extended_and_foreign_blobs_are_refused() -> None:
    blob = pack(_fragment())
    for bad in (b"", blob[:10], blob[:-1], blob + b"\0", b"XXXX" + blob[4:]):
        with pytest.raises(CorruptFragment):
            unpack(bad)
    with pytest.raises(CorruptFragment):
        unpack(blob, expected=FragmentId(FID.customer, FID.path_id, FID.version, 7, 2))
    with pytest.raises(CorruptFragment):
        unpack(blob, suppliers=4, required=2)
    with pytest.raises(CorruptFragment):
        unpack(blob, key_id="other")


def test_inconsistent_header_is_refused_even_with_a_valid_hash() -> None:
    with pytest.raises(CorruptFragment):
        unpack(pack(Fragment(FID, "k", 7, 4, 400, b"0123456789")))
    with pytest.raises(CorruptFragment):
        unpack(pack(Fragment(FragmentId("c", "p", "v", 0, 9), "k", 7, 4, 40, b"0123456789")))


@pytest.mark.parametrize(("n", "position", "accepted"), [(7, 6, True), (7, 7, False), (7, 8, False), (2, 2, False)])
def test_position_must_name_one_of_the_n_shares(n: int, position: int, accepted: bool) -> None:
    """Positions run 0..N-1; N itself (the off-by-one) is a slot zfec does not have."""
    blob = pack(Fragment(FragmentId("c", "p", "v", 0, position), "k", n, 2, 40, b"0" * 20))
    if accepted:
        assert unpack(blob).id.position == position
    else:
        with pytest.raises(CorruptFragment, match="inconsistent"):
            unpack(blob)


def test_associated_data_differs_per_field() -> None:
    base = block_associated_data("k", "p", "v", 1)
    others = [
        block_associated_data("k2", "p", "v", 1),
        block_associated_data("k", "p2", "v", 1),
        block_associated_data("k", "p", "v2", 1),
        block_associated_data("k", "p", "v", 2),
        block_associated_data("kp", "", "v", 1),
    ]
    assert base not in others and len(set(others)) == len(others)


def test_local_store(tmp_path: Path) -> None:
    store = LocalFragmentStore(tmp_path / "frags")
    assert store.get(FID) is None
    assert store.positions(FID.customer, FID.path_id, FID.version, FID.block) == []
    rng = random.Random(1)
    for position in (5, 0, 3):
        fid = FragmentId(FID.customer, FID.path_id, FID.version, FID.block, position)
        store.put(fid, rng.randbytes(20))
    store.put(FragmentId(FID.customer, FID.path_id, FID.version, 70, 1), b"x")
    assert store.positions(FID.customer, FID.path_id, FID.version, FID.block) == [0, 3, 5]
    assert len(store.get(FID) or b"") == 20
    store.delete(FID)
    assert store.get(FID) is None
