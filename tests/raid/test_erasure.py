from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitdust.raid.eccmap import ECC_MAPS, eccmap
from bitdust.raid.erasure import ErasureError, decode, encode, share_size


@pytest.mark.parametrize("ecc", list(ECC_MAPS.values()), ids=list(ECC_MAPS))
@pytest.mark.parametrize("length", [0, 1, 63, 1000])
def test_any_k_shares_rebuild_the_block(ecc, length: int) -> None:
    rng = random.Random(length * 1000 + ecc.suppliers)
    block = rng.randbytes(length)
    shares = encode(block, ecc)
    assert len(shares) == ecc.suppliers
    assert {len(share) for share in shares} == {share_size(length, ecc.required)}
    for _ in range(5):
        keep = rng.sample(range(ecc.suppliers), ecc.required)
        assert decode({i: shares[i] for i in keep}, ecc, length) == block


def test_every_pair_of_ecc_4x4() -> None:
    ecc = eccmap("ecc/4x4")
    block = bytes(range(256)) * 3
    shares = encode(block, ecc)
    for keep in itertools.combinations(range(4), 2):
        assert decode({i: shares[i] for i in keep}, ecc, len(block)) == block


def test_too_few_or_malformed_shares_fail() -> None:
    ecc = eccmap("ecc/7x7")
    shares = encode(b"x" * 100, ecc)
    with pytest.raises(ErasureError):
        decode({0: shares[0], 1: shares[1], 2: shares[2]}, ecc, 100)
    with pytest.raises(ErasureError):
        decode({i: shares[i][:-1] for i in range(4)}, ecc, 100)
    with pytest.raises(ErasureError):
        decode({i + 5: shares[i] for i in range(4)}, ecc, 100)


@settings(deadline=None, max_examples=50)
@given(data=st.binary(max_size=3000), name=st.sampled_from(list(ECC_MAPS)), seed=st.integers(0, 2**32))
def test_random_blocks_and_losses(data: bytes, name: str, seed: int) -> None:
    ecc = eccmap(name)
    shares = encode(data, ecc)
    keep = random.Random(seed).sample(range(ecc.suppliers), ecc.required)
    assert decode({i: shares[i] for i in keep}, ecc, len(data)) == data
