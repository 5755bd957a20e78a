from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from bitdust.crypt.errors import CryptError, KeyFormatError
from bitdust.crypt.rsa_key import KEY_SIZES, RsaKey
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput

# Two Mersenne primes make a valid 648-bit RSA key without generating anything: a fixture for
# "too small" that cryptography itself would refuse to generate.
_P, _Q, _E = (1 << 127) - 1, (1 << 521) - 1, 65537


def _tiny_private_key() -> rsa.RSAPrivateKey:
    d = pow(_E, -1, (_P - 1) * (_Q - 1))
    numbers = rsa.RSAPrivateNumbers(
        _P,
        _Q,
        d,
        rsa.rsa_crt_dmp1(d, _P),
        rsa.rsa_crt_dmq1(d, _Q),
        rsa.rsa_crt_iqmp(_P, _Q),
        rsa.RSAPublicNumbers(_E, _P * _Q),
    )
    return numbers.private_key()


def _raw_public_with_bits(bits: int) -> rsa.RSAPublicKey:
    # Public keys need only an odd modulus; no primes are needed to test the size limits.
    return rsa.RSAPublicNumbers(_E, (1 << (bits - 1)) | 1).public_key()


def _pem(key: object, fmt: serialization.PrivateFormat, enc: object | None = None) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc or serialization.NoEncryption())  # type: ignore[attr-defined]


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _encrypted_openssh_text(key: RsaKey) -> str:
    """An OpenSSH private key whose header says aes256-ctr/bcrypt (the body is then just noise)."""
    lines = key.openssh_private_text().strip().splitlines()
    blob = base64.b64decode("".join(lines[1:-1]))
    magic = b"openssh-key-v1\0"
    assert blob.startswith(magic)
    offset = len(magic)
    fields = []
    for _ in range(3):  # ciphername, kdfname, kdfoptions
        (length,) = struct.unpack_from(">I", blob, offset)
        fields.append(blob[offset + 4 : offset + 4 + length])
        offset += 4 + length
    assert fields[0] == b"none"
    (nkeys, public_length) = struct.unpack_from(">II", blob, offset)
    public = blob[offset + 8 : offset + 8 + public_length]
    secret = blob[offset + 12 + public_length :]
    secret += b"\0" * (-len(secret) % 16)  # aes256-ctr wants whole 16-byte blocks
    kdf_options = _ssh_string(b"\x01" * 16) + struct.pack(">I", 16)
    forged = (
        magic
        + _ssh_string(b"aes256-ctr")
        + _ssh_string(b"bcrypt")
        + _ssh_string(kdf_options)
        + struct.pack(">I", nkeys)
        + _ssh_string(public)
        + _ssh_string(secret)
    )
    body = base64.b64encode(forged).decode()
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + "\n-----END OPENSSH PRIVATE KEY-----\n"


# -- generation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", KEY_SIZES)
def test_generate_allowed_sizes(bits: int) -> None:
    key = RsaKey.generate(bits)
    assert key.size == bits
    assert key.has_private


@pytest.mark.parametrize("bits", [0, -1, 512, 1023, 3000, 8192, True, "2048", None])
def test_generate_refuses_other_sizes(bits: object) -> None:
    with pytest.raises(InvalidInput) as info:
        RsaKey.generate(bits)  # type: ignore[arg-type]
    assert status_of(info.value) == 400


def test_generate_message_names_the_allowed_sizes() -> None:
    with pytest.raises(InvalidInput) as info:
        RsaKey.generate(3000)
    assert info.value.message == "key size 3000 is not allowed: use 1024, 2048 or 4096"


def test_2048_round_trip_through_every_format() -> None:
    key = RsaKey.generate(2048)
    for text in (key.private_text(), key.openssh_private_text()):
        loaded = RsaKey.from_private_text(text)
        assert loaded == key and loaded.has_private and loaded.size == 2048
        assert loaded.private_text() == key.private_text()
    public = RsaKey.from_public_text(key.public_openssh())
    assert public == key and not public.has_private
    signature = key.sign(b"identity document")
    assert len(signature) == 256
    assert public.verify(signature, b"identity document")
    assert key.decrypt(public.encrypt(b"k" * 32)) == b"k" * 32


# -- text formats -------------------------------------------------------------------------------


def test_private_text_is_pkcs1_pem(key_a: RsaKey) -> None:
    text = key_a.private_text()
    assert text.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert text.rstrip().endswith("-----END RSA PRIVATE KEY-----")
    assert RsaKey.from_private_text(text) == key_a
    assert RsaKey.from_private_text(text.encode()) == key_a
    assert RsaKey.from_private_text("\n  " + text + "\n\n") == key_a


def test_pkcs8_private_key_loads(key_a: RsaKey) -> None:
    raw = serialization.load_pem_private_key(key_a.private_text().encode(), None)
    text = _pem(raw, serialization.PrivateFormat.PKCS8)
    assert text.startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = RsaKey.from_private_text(text)
    assert loaded == key_a and loaded.has_private


def test_openssh_private_round_trip(key_a: RsaKey) -> None:
    text = key_a.openssh_private_text()
    assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    loaded = RsaKey.from_private_text(text)
    assert loaded == key_a and loaded.has_private
    assert loaded.sign(b"x") and key_a.verify(loaded.sign(b"x"), b"x")


def test_public_openssh_round_trip_with_and_without_comment(key_a: RsaKey) -> None:
    text = key_a.public_openssh()
    assert text.startswith("ssh-rsa AAAA")
    assert len(text.split()) == 2
    for variant in (text, text + " alice@host", text.encode(), "  " + text + "\n"):
        loaded = RsaKey.from_public_text(variant)
        assert loaded == key_a
        assert not loaded.has_private


def test_pem_public_keys_load(key_a: RsaKey) -> None:
    raw = serialization.load_ssh_public_key(key_a.public_openssh().encode())
    for fmt in (serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1):
        text = raw.public_bytes(serialization.Encoding.PEM, fmt)
        assert RsaKey.from_public_text(text) == key_a


def test_from_text_picks_the_kind(key_a: RsaKey) -> None:
    assert RsaKey.from_text(key_a.private_text()).has_private
    assert RsaKey.from_text(key_a.openssh_private_text()).has_private
    assert not RsaKey.from_text(key_a.public_openssh()).has_private


def _refused_private_texts() -> dict[str, str | bytes]:
    ed = ed25519.Ed25519PrivateKey.generate()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    password = serialization.BestAvailableEncryption(b"secret")
    return {
        "empty": "",
        "garbage": "hello world",
        "garbage bytes": b"\x00\xff\xfe" * 30,
        "broken pem": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        "broken openssh": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n",
        "ed25519 openssh": _pem(ed, serialization.PrivateFormat.OpenSSH),
        "ed25519 pkcs8": _pem(ed, serialization.PrivateFormat.PKCS8),
        "ec pkcs8": _pem(ec_key, serialization.PrivateFormat.PKCS8),
        "ec traditional": _pem(ec_key, serialization.PrivateFormat.TraditionalOpenSSL),
        "encrypted pkcs1": _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL, password),
        "encrypted pkcs8": _pem(rsa_key, serialization.PrivateFormat.PKCS8, password),
        "encrypted openssh": _encrypted_openssh_text(RsaKey(rsa_key)),
        "648 bits": _pem(_tiny_private_key(), serialization.PrivateFormat.TraditionalOpenSSL),
        "public text": RsaKey(rsa_key).public_openssh(),
    }


REFUSED_PRIVATE = _refused_private_texts()


@pytest.mark.parametrize("name", sorted(REFUSED_PRIVATE))
def test_private_text_refused(name: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        RsaKey.from_private_text(REFUSED_PRIVATE[name])
    assert status_of(info.value) == 400
    assert isinstance(info.value, InvalidInput)
    assert info.value.message


def test_refusal_reasons_are_specific() -> None:
    with pytest.raises(KeyFormatError, match="encrypted"):
        RsaKey.from_private_text(REFUSED_PRIVATE["encrypted pkcs1"])
    with pytest.raises(KeyFormatError, match="only RSA"):
        RsaKey.from_private_text(REFUSED_PRIVATE["ed25519 openssh"])
    with pytest.raises(KeyFormatError, match="encrypted"):
        RsaKey.from_private_text(REFUSED_PRIVATE["encrypted openssh"])
    with pytest.raises(KeyFormatError, match="648 bits"):
        RsaKey.from_private_text(REFUSED_PRIVATE["648 bits"])


def _refused_public_texts() -> dict[str, str | bytes]:
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    openssh = serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    return {
        "empty": "",
        "garbage": "ssh-rsa !!!notbase64",
        "truncated": "ssh-rsa AAAA",
        "words": "not a key at all",
        "ed25519 openssh": ed.public_bytes(*openssh),
        "ed25519 pem": ed.public_bytes(*spki),
        "ec openssh": ec_key.public_bytes(*openssh),
        "ed25519 private pem": ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "768 bits": _raw_public_with_bits(768).public_bytes(*openssh),
        "8300 bits": _raw_public_with_bits(8300).public_bytes(*openssh),
        "8300 bits pem": _raw_public_with_bits(8300).public_bytes(*spki),
        "private text": RsaKey.generate(1024).private_text(),
    }


REFUSED_PUBLIC = _refused_public_texts()


@pytest.mark.parametrize("name", sorted(REFUSED_PUBLIC))
def test_public_text_refused(name: str) -> None:
    with pytest.raises(KeyFormatError):
        RsaKey.from_public_text(REFUSED_PUBLIC[name])


def test_size_limits_are_inclusive() -> None:
    assert (
        RsaKey.from_public_text(
            _raw_public_with_bits(8192).public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        ).size
        == 8192
    )


@pytest.mark.parametrize("value", [None, 42, ["ssh-rsa"]])
def test_non_text_refused(value: object) -> None:
    with pytest.raises(KeyFormatError):
        RsaKey.from_private_text(value)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError):
        RsaKey.from_public_text(value)  # type: ignore[arg-type]


def test_wrapping_a_non_rsa_object_is_refused() -> None:
    with pytest.raises(KeyFormatError):
        RsaKey(ed25519.Ed25519PrivateKey.generate())  # type: ignore[arg-type]


# -- identity of keys ---------------------------------------------------------------------------


def test_public_key_half(key_a: RsaKey) -> None:
    public = key_a.public_key()
    assert not public.has_private
    assert public == key_a and hash(public) == hash(key_a)
    assert public.size == key_a.size == 1024
    assert public.public_openssh() == key_a.public_openssh()
    with pytest.raises(CryptError):
        public.private_text()
    with pytest.raises(CryptError):
        public.openssh_private_text()
    with pytest.raises(CryptError):
        public.sign(b"data")


def test_equality(key_a: RsaKey, key_b: RsaKey) -> None:
    assert key_a != key_b
    assert key_a != "ssh-rsa"
    assert len({key_a, key_a.public_key(), key_b}) == 2


def test_fingerprint(key_a: RsaKey, key_b: RsaKey) -> None:
    blob = base64.b64decode(key_a.public_openssh().split()[1])
    assert key_a.fingerprint() == hashlib.sha256(blob).hexdigest()
    assert len(key_a.fingerprint()) == 64
    assert key_a.public_key().fingerprint() == key_a.fingerprint()
    assert key_b.fingerprint() != key_a.fingerprint()


def test_repr_shows_no_key_material(key_a: RsaKey) -> None:
    text = repr(key_a)
    assert "private 1024 bits" in text
    assert "MII" not in text and "AAAA" not in text


# -- signatures ---------------------------------------------------------------------------------


def test_sign_and_verify(key_a: RsaKey, key_b: RsaKey) -> None:
    data = b"some document to sign"
    signature = key_a.sign(data)
    assert len(signature) == 128
    assert key_a.verify(signature, data)
    assert key_a.public_key().verify(signature, data)
    assert key_a.verify(bytearray(signature), memoryview(data))
    assert not key_a.verify(signature, data + b".")
    assert not key_a.verify(signature, b"")
    assert not key_b.verify(signature, data)
    assert not key_a.verify(b"", data)
    assert not key_a.verify(signature[:-1], data)
    assert not key_a.verify(signature + b"\0", data)
    assert not key_a.verify(signature.hex(), data)  # type: ignore[arg-type]
    assert not key_a.verify(signature, data.decode())  # type: ignore[arg-type]
    assert not key_a.verify(None, data)  # type: ignore[arg-type]


def test_every_flipped_signature_byte_is_rejected(key_a: RsaKey) -> None:
    signature = key_a.sign(b"data")
    for index in range(len(signature)):
        tampered = bytearray(signature)
        tampered[index] ^= 0x01
        assert not key_a.verify(bytes(tampered), b"data")


def test_pss_parameters_are_fixed_and_interoperable(key_a: RsaKey) -> None:
    raw_private = serialization.load_pem_private_key(key_a.private_text().encode(), None)
    raw_public = raw_private.public_key()
    signature = key_a.sign(b"data")
    # Anyone who knows the rule (PSS, SHA-256, MGF1-SHA-256, 32-byte salt) can verify ...
    fixed = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    raw_public.verify(signature, b"data", fixed, hashes.SHA256())
    # ... and a signature with another salt length is not ours.
    other = raw_private.sign(
        b"data", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH), hashes.SHA256()
    )
    assert not key_a.verify(other, b"data")
    pkcs1v15 = raw_private.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    assert not key_a.verify(pkcs1v15, b"data")


# -- key wrapping -------------------------------------------------------------------------------


def test_oaep_round_trip(key_a: RsaKey) -> None:
    secret = bytes(range(32))
    ciphertext = key_a.public_key().encrypt(secret)
    assert len(ciphertext) == 128
    assert ciphertext != key_a.encrypt(secret)  # randomized padding
    assert key_a.decrypt(ciphertext) == secret
    assert key_a.decrypt(key_a.encrypt(b"")) == b""


def test_oaep_is_sha256(key_a: RsaKey) -> None:
    raw_private = serialization.load_pem_private_key(key_a.private_text().encode(), None)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    assert raw_private.decrypt(key_a.encrypt(b"secret"), oaep) == b"secret"


def test_oaep_length_limit(key_a: RsaKey) -> None:
    assert key_a.max_encrypt_size == 128 - 2 * 32 - 2
    longest = b"x" * key_a.max_encrypt_size
    assert key_a.decrypt(key_a.encrypt(longest)) == longest
    with pytest.raises(InvalidInput, match="too long"):
        key_a.encrypt(longest + b"x")


def test_decrypt_failures_are_crypt_errors(key_a: RsaKey, key_b: RsaKey) -> None:
    ciphertext = key_a.encrypt(b"secret")
    for bad in (b"", b"garbage", ciphertext[:-1], ciphertext + b"\0", bytes(128)):
        with pytest.raises(CryptError):
            key_a.decrypt(bad)
    with pytest.raises(CryptError):
        key_b.decrypt(ciphertext)
    tampered = bytearray(ciphertext)
    tampered[5] ^= 0x80
    with pytest.raises(CryptError):
        key_a.decrypt(bytes(tampered))
    with pytest.raises(CryptError, match="no private part"):
        key_a.public_key().decrypt(ciphertext)
