"""Fuzzing the parsers and the failure paths: random input may only ever fail in the documented way."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitdust.crypt import symmetric
from bitdust.crypt.errors import CryptError, KeyFormatError
from bitdust.crypt.key_id import make_key_id, split_key_id
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.errors import InvalidInput

FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
AES_KEY = bytes(range(32))


@pytest.fixture(scope="module")
def sealed(key_a: RsaKey) -> bytes:
    return symmetric.seal_for(key_a, b"a known plaintext")


@FUZZ
@given(signature=st.binary(max_size=300), data=st.binary(max_size=300))
def test_verify_never_raises(key_a: RsaKey, signature: bytes, data: bytes) -> None:
    assert key_a.verify(signature, data) is False


@FUZZ
@given(signature=st.binary(min_size=128, max_size=128))
def test_verify_right_length_garbage(key_a: RsaKey, signature: bytes) -> None:
    assert key_a.verify(signature, b"data") is False


@FUZZ
@given(blob=st.binary(max_size=200))
def test_rsa_decrypt_random_only_crypt_error(key_a: RsaKey, blob: bytes) -> None:
    with pytest.raises(CryptError):
        key_a.decrypt(blob)


@FUZZ
@given(blob=st.binary(max_size=200), aad=st.binary(max_size=16))
def test_aes_decrypt_random_only_crypt_error(blob: bytes, aad: bytes) -> None:
    with pytest.raises(CryptError):
        symmetric.decrypt(AES_KEY, blob, aad)


@FUZZ
@given(blob=st.binary(max_size=400))
def test_open_sealed_random_only_crypt_error(key_a: RsaKey, blob: bytes) -> None:
    with pytest.raises(CryptError):
        symmetric.open_sealed(key_a, blob)


@FUZZ
@given(data=st.data())
def test_open_sealed_mutations_only_crypt_error(key_a: RsaKey, sealed: bytes, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(sealed) - 1))
    cut = data.draw(st.integers(0, len(sealed)))
    replacement = data.draw(st.binary(max_size=8))
    mutated = sealed[:index] + replacement + sealed[index + 1 : cut] if cut > index else sealed[:cut] + replacement
    if mutated == sealed:
        return
    with pytest.raises(CryptError):
        symmetric.open_sealed(key_a, mutated)


PREFIXES = st.sampled_from(
    [
        "",
        "ssh-rsa ",
        "ssh-rsa AAAAB3NzaC1yc2E",
        "ssh-ed25519 ",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\n",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA",
        "-----BEGIN PUBLIC KEY-----\n",
    ]
)


@FUZZ
@given(prefix=PREFIXES, body=st.text(max_size=200), suffix=st.sampled_from(["", "\n-----END RSA PRIVATE KEY-----"]))
def test_key_text_parsers_only_key_format_error(prefix: str, body: str, suffix: str) -> None:
    text = prefix + body + suffix
    for parse in (RsaKey.from_private_text, RsaKey.from_public_text, RsaKey.from_text):
        with pytest.raises(KeyFormatError):
            parse(text)


@FUZZ
@given(data=st.binary(max_size=300))
def test_key_bytes_parsers_only_key_format_error(data: bytes) -> None:
    for parse in (RsaKey.from_private_text, RsaKey.from_public_text):
        with pytest.raises(KeyFormatError):
            parse(data)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from("abcXY09_-.$@/ \n"), max_size=40))
def test_split_key_id_round_trips_or_refuses(text: str) -> None:
    try:
        alias, global_id = split_key_id(text)
    except InvalidInput:
        return
    assert make_key_id(alias, global_id) == text
    assert "/" not in text and ".." not in text and not text.startswith(".")
