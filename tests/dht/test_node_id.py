from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.dht import node_id
from bitdust.main.errors import InvalidInput


@given(st.binary(min_size=20, max_size=20), st.binary(min_size=20, max_size=20))
def test_distance_is_a_metric_on_xor(a: bytes, b: bytes) -> None:
    assert node_id.distance(a, b) == node_id.distance(b, a)
    assert (node_id.distance(a, b) == 0) == (a == b)


def test_bucket_index_is_the_highest_differing_bit() -> None:
    own = bytes(20)
    assert node_id.bucket_index(own, own) == -1
    assert node_id.bucket_index(own, bytes(19) + b"\x01") == 0
    assert node_id.bucket_index(own, b"\x80" + bytes(19)) == 159


@pytest.mark.parametrize("index", [0, 1, 7, 100, 159])
def test_random_id_in_bucket_lands_in_that_bucket(index: int) -> None:
    rng = random.Random(index)
    own = node_id.random_id(rng)
    for _ in range(20):
        assert node_id.bucket_index(own, node_id.random_id_in_bucket(own, index, rng)) == index


def test_ids_round_trip_through_base64_and_hex() -> None:
    raw = node_id.random_id(random.Random(5))
    assert node_id.decode_id(node_id.encode_id(raw)) == raw
    assert node_id.decode_id(raw.hex()) == raw
    assert node_id.decode_id(node_id.encode_id(raw).replace("+", "-").replace("/", "_")) == raw


@pytest.mark.parametrize("text", ["", "abc", "zz" * 20, "AAAA", 5])
def test_bad_ids_are_bad_requests(text: object) -> None:
    with pytest.raises(InvalidInput):
        node_id.decode_id(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["", "x" * 257, "a\nb", None])
def test_bad_keys_are_refused(key: object) -> None:
    with pytest.raises(InvalidInput):
        node_id.check_key(key)


def test_key_hash_is_stable() -> None:
    assert node_id.key_hash("alice:0") == node_id.key_hash("alice:0")
    assert len(node_id.key_hash("alice:0")) == 20
