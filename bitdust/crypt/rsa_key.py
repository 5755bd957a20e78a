"""RSA keys: generation, text formats, signatures and key wrapping, all through ``cryptography``.

The original BitDust signed with SHA-1 and hand-rolled parts of its RSA handling; here every
primitive comes from ``cryptography`` and the parameters are fixed in one place:

* signatures are RSA-PSS with SHA-256, MGF1-SHA-256 and a salt as long as the digest (32 bytes), so
  any implementation that knows this rule can verify them (no "auto" salt length);
* encryption is RSA-OAEP with SHA-256 and MGF1-SHA-256, meant for short secrets such as AES keys;
  bulk data goes through :mod:`bitdust.crypt.symmetric`.

Loading refuses anything we do not want to carry around: non-RSA keys, encrypted keys (the engine
keeps its own keys in a 0600 folder and has no passphrase to ask for) and sizes outside 1024..8192.
Every ``cryptography`` exception is turned into :class:`KeyFormatError` or :class:`CryptError`.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from bitdust.crypt.errors import CryptError, KeyFormatError
from bitdust.main.errors import InvalidInput

KEY_SIZES = (1024, 2048, 4096)
"""Sizes a node may generate (the API's ``key_size`` and ``personal/private-key-size``)."""

MIN_LOAD_BITS = 1024
MAX_LOAD_BITS = 8192
"""Sizes a node accepts from text: smaller keys are breakable, bigger ones are a cheap DoS."""

PUBLIC_EXPONENT = 65537

_HASH_SIZE = hashes.SHA256.digest_size
_SALT_LENGTH = _HASH_SIZE
_LOAD_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm)


# Padding objects are immutable parameter holders: built once, shared by every key and thread.
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=_SALT_LENGTH)
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
_SHA256 = hashes.SHA256()


def _as_bytes(text: str | bytes) -> bytes:
    if isinstance(text, bytes):
        return text.strip()
    if isinstance(text, str):
        return text.strip().encode("utf-8")
    raise KeyFormatError(f"key text must be a string, not {type(text).__name__}")


class RsaKey:
    """One RSA key, private (can sign and decrypt) or public only (can verify and encrypt).

    Instances are immutable wrappers; two keys are equal when their public numbers are equal, so a
    private key equals its own public half.
    """

    __slots__ = ("_private", "_public")

    def __init__(self, key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> None:
        if isinstance(key, rsa.RSAPrivateKey):
            self._private: rsa.RSAPrivateKey | None = key
            self._public: rsa.RSAPublicKey = key.public_key()
        elif isinstance(key, rsa.RSAPublicKey):
            self._private = None
            self._public = key
        else:
            raise KeyFormatError(f"not an RSA key: {type(key).__name__}")

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def generate(cls, bits: int) -> RsaKey:
        """Generate a new private key; blocking (up to seconds for 4096 bits), run it in a thread."""
        if isinstance(bits, bool) or bits not in KEY_SIZES:
            raise InvalidInput(f"key size {bits} is not allowed: use 1024, 2048 or 4096")
        return cls(rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits))

    @classmethod
    def from_private_text(cls, text: str | bytes) -> RsaKey:
        """Load an unencrypted private key: PEM PKCS#1, PEM PKCS#8 or OpenSSH.

        The seed calls PKCS#1 PEM (``-----BEGIN RSA PRIVATE KEY-----``) the "openssh formated
        string"; real OpenSSH private keys (``-----BEGIN OPENSSH PRIVATE KEY-----``) load too.
        """
        data = _as_bytes(text)
        key: PrivateKeyTypes
        try:
            if data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
                key = serialization.load_ssh_private_key(data, password=None)
            elif data.startswith(b"-----BEGIN"):
                key = serialization.load_pem_private_key(data, password=None)
            else:
                raise KeyFormatError("not a private key: expected PEM or OpenSSH private key text")
        except TypeError as exc:
            # cryptography says "password was not given" this way: the key is encrypted.
            raise KeyFormatError(f"private key rejected: encrypted keys are not supported ({exc})") from None
        except _LOAD_ERRORS as exc:
            raise KeyFormatError(f"private key rejected: {exc}") from None
        return cls._checked(key, "private")

    @classmethod
    def from_public_text(cls, text: str | bytes) -> RsaKey:
        """Load a public key: OpenSSH ``ssh-rsa AAAA... [comment]`` or PEM (SPKI or PKCS#1)."""
        data = _as_bytes(text)
        try:
            if not data:
                raise KeyFormatError("not a public key: the text is empty")
            if data.startswith(b"-----BEGIN"):
                key = serialization.load_pem_public_key(data)
            else:
                key = serialization.load_ssh_public_key(data)
        except _LOAD_ERRORS as exc:
            raise KeyFormatError(f"public key rejected: {exc}") from None
        return cls._checked(key, "public")

    @classmethod
    def from_text(cls, text: str | bytes) -> RsaKey:
        """Load either kind: what a peer shares may be the public or the private half."""
        data = _as_bytes(text)
        if b"PRIVATE KEY-----" in data[:64]:
            return cls.from_private_text(data)
        return cls.from_public_text(data)

    @classmethod
    def _checked(cls, key: object, kind: str) -> RsaKey:
        if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            raise KeyFormatError(f"{kind} key rejected: only RSA keys are supported, got {type(key).__name__}")
        if not MIN_LOAD_BITS <= key.key_size <= MAX_LOAD_BITS:
            raise KeyFormatError(
                f"{kind} key rejected: {key.key_size} bits is outside {MIN_LOAD_BITS}..{MAX_LOAD_BITS}"
            )
        return cls(key)

    # -- properties -----------------------------------------------------------------------------

    @property
    def has_private(self) -> bool:
        return self._private is not None

    @property
    def size(self) -> int:
        """Modulus size in bits."""
        return self._public.key_size

    def public_key(self) -> RsaKey:
        """The public half alone, safe to hand out."""
        return RsaKey(self._public)

    def _require_private(self) -> rsa.RSAPrivateKey:
        if self._private is None:
            raise CryptError("this key has no private part")
        return self._private

    # -- text formats ---------------------------------------------------------------------------

    def private_text(self) -> str:
        """PEM PKCS#1 (``-----BEGIN RSA PRIVATE KEY-----``), unencrypted: the original's backup format."""
        return (
            self._require_private()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            .decode("ascii")
        )

    def openssh_private_text(self) -> str:
        """OpenSSH private key format (``-----BEGIN OPENSSH PRIVATE KEY-----``), unencrypted."""
        return (
            self._require_private()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption(),
            )
            .decode("ascii")
        )

    def public_openssh(self) -> str:
        """``ssh-rsa AAAA...``: the form identities and ``keys_list`` carry."""
        return self._public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode(
            "ascii"
        )

    def fingerprint(self) -> str:
        """Hex SHA-256 of the OpenSSH public key blob (what ``ssh-keygen -l -E sha256`` hashes)."""
        blob = base64.b64decode(self.public_openssh().split()[1])
        return hashlib.sha256(blob).hexdigest()

    # -- signatures -----------------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """RSA-PSS/SHA-256 signature with a fixed 32-byte salt; needs the private part."""
        return self._require_private().sign(data, _PSS, _SHA256)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True only for a valid signature; any bad input (wrong type, length, garbage) is False."""
        if not isinstance(signature, bytes | bytearray | memoryview) or not isinstance(
            data, bytes | bytearray | memoryview
        ):
            return False
        try:
            self._public.verify(bytes(signature), bytes(data), _PSS, _SHA256)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    # -- key wrapping ---------------------------------------------------------------------------

    @property
    def max_encrypt_size(self) -> int:
        """Longest plaintext RSA-OAEP/SHA-256 can take with this key."""
        return (self.size + 7) // 8 - 2 * _HASH_SIZE - 2

    def encrypt(self, data: bytes) -> bytes:
        """RSA-OAEP for short secrets (AES keys); longer data belongs in ``symmetric.seal_for``."""
        if len(data) > self.max_encrypt_size:
            raise InvalidInput(
                f"{len(data)} bytes is too long for RSA-OAEP with a {self.size}-bit key "
                f"(at most {self.max_encrypt_size}); use hybrid encryption"
            )
        return self._public.encrypt(bytes(data), _OAEP)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Undo :meth:`encrypt`; any failure is one :class:`CryptError` that says nothing more."""
        private = self._require_private()
        try:
            return private.decrypt(bytes(ciphertext), _OAEP)
        except (ValueError, TypeError):
            raise CryptError("RSA decryption failed") from None

    # -- identity -------------------------------------------------------------------------------

    def _public_numbers(self) -> tuple[int, int]:
        numbers = self._public.public_numbers()
        return numbers.n, numbers.e

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RsaKey):
            return NotImplemented
        return self._public_numbers() == other._public_numbers()

    def __hash__(self) -> int:
        return hash(self._public_numbers())

    def __repr__(self) -> str:
        kind = "private" if self.has_private else "public"
        return f"<RsaKey {kind} {self.size} bits {self.fingerprint()[:16]}>"
