from __future__ import annotations

import os
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bitdust.crypt import symmetric
from bitdust.crypt.errors import CryptError
from bitdust.crypt.rsa_key import RsaKey

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
OVERHEAD = symmetric.NONCE_SIZE + symmetric.TAG_SIZE


def test_new_data_key() -> None:
    first, second = symmetric.new_data_key(), symmetric.new_data_key()
    assert len(first) == len(second) == 32
    assert first != second


@pytest.mark.parametrize("plaintext", [b"", b"a", b"hello world" * 100, bytes(range(256)) * 4096])
def test_round_trip(plaintext: bytes) -> None:
    blob = symmetric.encrypt(KEY, plaintext)
    assert len(blob) == len(plaintext) + OVERHEAD
    assert symmetric.decrypt(KEY, blob) == plaintext
    assert symmetric.decrypt(KEY, bytearray(blob)) == plaintext
    assert symmetric.decrypt(KEY, memoryview(blob)) == plaintext


def test_layout_is_nonce_then_standard_gcm() -> None:
    blob = symmetric.encrypt(KEY, b"data", b"aad")
    assert AESGCM(KEY).decrypt(blob[:12], blob[12:], b"aad") == b"data"


def test_nonces_are_fresh() -> None:
    blobs = {symmetric.encrypt(KEY, b"same")[:12] for _ in range(50)}
    assert len(blobs) == 50


def test_associated_data_is_bound() -> None:
    blob = symmetric.encrypt(KEY, b"payload", b"header-1")
    assert symmetric.decrypt(KEY, blob, b"header-1") == b"payload"
    for wrong in (b"", b"header-2", b"header-1\0"):
        with pytest.raises(CryptError, match="authentication failed"):
            symmetric.decrypt(KEY, blob, wrong)


def test_wrong_key() -> None:
    with pytest.raises(CryptError, match="authentication failed"):
        symmetric.decrypt(OTHER_KEY, symmetric.encrypt(KEY, b"payload"))


def test_every_tampered_byte_is_detected() -> None:
    blob = symmetric.encrypt(KEY, b"twenty bytes of text", b"aad")
    for index in range(len(blob)):
        for flip in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= flip
            with pytest.raises(CryptError, match="authentication failed"):
                symmetric.decrypt(KEY, bytes(tampered), b"aad")


def test_truncation_and_extension_are_detected() -> None:
    blob = symmetric.encrypt(KEY, b"twenty bytes of text")
    for length in range(len(blob)):
        with pytest.raises(CryptError, match="authentication failed"):
            symmetric.decrypt(KEY, blob[:length])
    with pytest.raises(CryptError):
        symmetric.decrypt(KEY, blob + b"\0")


@pytest.mark.parametrize("key", [b"", b"short", bytes(16), bytes(31), bytes(33), "x" * 32])
def test_only_256_bit_keys(key: object) -> None:
    with pytest.raises(CryptError, match="32 bytes"):
        symmetric.encrypt(key, b"data")  # type: ignore[arg-type]
    with pytest.raises(CryptError, match="32 bytes"):
        symmetric.decrypt(key, bytes(64))  # type: ignore[arg-type]


def test_non_bytes_blob() -> None:
    with pytest.raises(CryptError):
        symmetric.decrypt(KEY, "not bytes" * 10)  # type: ignore[arg-type]


# -- hybrid sealing -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 100, 1024 * 1024])
def test_seal_round_trip(key_a: RsaKey, size: int) -> None:
    plaintext = os.urandom(size)
    blob = symmetric.seal_for(key_a.public_key(), plaintext)
    assert blob[:4] == b"BDS\x01"
    assert len(blob) == 6 + 128 + OVERHEAD + size
    assert symmetric.open_sealed(key_a, blob) == plaintext


def test_seal_with_associated_data(key_a: RsaKey) -> None:
    blob = symmetric.seal_for(key_a, b"secret", b"packet-id-1")
    assert symmetric.open_sealed(key_a, blob, b"packet-id-1") == b"secret"
    with pytest.raises(CryptError):
        symmetric.open_sealed(key_a, blob, b"packet-id-2")
    with pytest.raises(CryptError):
        symmetric.open_sealed(key_a, blob)


def test_sealed_for_another_key(key_a: RsaKey, key_b: RsaKey) -> None:
    blob = symmetric.seal_for(key_a, b"secret")
    with pytest.raises(CryptError):
        symmetric.open_sealed(key_b, blob)
    with pytest.raises(CryptError, match="no private part"):
        symmetric.open_sealed(key_a.public_key(), blob)


def test_every_tampered_sealed_byte_is_detected(key_a: RsaKey) -> None:
    blob = symmetric.seal_for(key_a, b"twenty bytes of text")
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(CryptError):
            symmetric.open_sealed(key_a, bytes(tampered))


def test_truncated_sealed_data(key_a: RsaKey) -> None:
    blob = symmetric.seal_for(key_a, b"text")
    for length in range(len(blob)):
        with pytest.raises(CryptError):
            symmetric.open_sealed(key_a, blob[:length])


def test_sealed_header_checks(key_a: RsaKey) -> None:
    blob = symmetric.seal_for(key_a, b"text")
    with pytest.raises(CryptError, match="not sealed data"):
        symmetric.open_sealed(key_a, b"XYZ" + blob[3:])
    with pytest.raises(CryptError, match="version 2"):
        symmetric.open_sealed(key_a, blob[:3] + b"\x02" + blob[4:])
    with pytest.raises(CryptError, match="truncated"):
        symmetric.open_sealed(key_a, blob[:4] + struct.pack(">H", 65535) + blob[6:])
    with pytest.raises(CryptError):
        symmetric.open_sealed(key_a, "text")  # type: ignore[arg-type]


def test_a_wrapped_key_of_the_wrong_size_is_refused(key_a: RsaKey) -> None:
    wrapped = key_a.encrypt(b"sixteen byte key")
    header = struct.pack(">3sBH", b"BDS", 1, len(wrapped))
    body = symmetric.encrypt(bytes(32), b"text")
    with pytest.raises(CryptError, match="malformed key"):
        symmetric.open_sealed(key_a, header + wrapped + body)
