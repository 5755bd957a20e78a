"""AES-256-GCM for data, and hybrid RSA-OAEP + AES-GCM sealing for data of any size.

The original encrypted with AES-CBC and no MAC, so a flipped bit went unnoticed; GCM authenticates
every byte (and any associated data the caller binds in), and a failed check is one
:class:`CryptError` whatever went wrong.

Blob layouts (all integers big-endian):

* ``encrypt``: ``nonce (12) || ciphertext || tag (16)``; the nonce is random per call, which is safe
  for far more messages than one key will ever see (``new_data_key`` makes a fresh key per object).
* ``seal_for``: ``b"BDS" || version (1) || wrapped_key_len (2) || wrapped_key || encrypt(...)``,
  where ``wrapped_key`` is the fresh AES key under RSA-OAEP and the AES-GCM associated data is the
  header, the wrapped key and the caller's associated data, so no part can be swapped.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bitdust.crypt.errors import CryptError
from bitdust.crypt.rsa_key import RsaKey

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16

SEAL_MAGIC = b"BDS"
SEAL_VERSION = 1
_SEAL_HEADER = struct.Struct(">3sBH")


def new_data_key() -> bytes:
    """A fresh random AES-256 key (32 bytes from the OS generator)."""
    return os.urandom(KEY_SIZE)


def _cipher(key: bytes) -> AESGCM:
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise CryptError(f"an AES-256 key is {KEY_SIZE} bytes")
    return AESGCM(key)


def encrypt(key: bytes, plaintext: bytes, associated_data: bytes = b"") -> bytes:
    """AES-256-GCM encrypt; returns ``nonce || ciphertext || tag``."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + _cipher(key).encrypt(nonce, plaintext, associated_data)


def decrypt(key: bytes, blob: bytes | memoryview, associated_data: bytes = b"") -> bytes:
    """Undo :func:`encrypt`; tampering, truncation, a wrong key or wrong AAD all raise CryptError."""
    cipher = _cipher(key)
    if not isinstance(blob, bytes | bytearray | memoryview) or len(blob) < NONCE_SIZE + TAG_SIZE:
        raise CryptError("authentication failed")
    view = memoryview(blob)  # slicing a view copies nothing: large blobs are not duplicated
    try:
        return cipher.decrypt(bytes(view[:NONCE_SIZE]), view[NONCE_SIZE:], associated_data)
    except (InvalidTag, ValueError, TypeError, OverflowError):
        raise CryptError("authentication failed") from None


def seal_for(rsa_key: RsaKey, plaintext: bytes, associated_data: bytes = b"") -> bytes:
    """Encrypt data of any size so that only the holder of ``rsa_key``'s private part can read it."""
    data_key = new_data_key()
    wrapped = rsa_key.encrypt(data_key)
    header = _SEAL_HEADER.pack(SEAL_MAGIC, SEAL_VERSION, len(wrapped))
    return header + wrapped + encrypt(data_key, plaintext, header + wrapped + associated_data)


def open_sealed(rsa_key: RsaKey, blob: bytes, associated_data: bytes = b"") -> bytes:
    """Undo :func:`seal_for` with the private key; any malformed or tampered blob is a CryptError."""
    if not isinstance(blob, bytes) or len(blob) < _SEAL_HEADER.size:
        raise CryptError("sealed data is truncated")
    magic, version, wrapped_len = _SEAL_HEADER.unpack_from(blob)
    if magic != SEAL_MAGIC:
        raise CryptError("not sealed data")
    if version != SEAL_VERSION:
        raise CryptError(f"unsupported sealed data version {version}")
    body_start = _SEAL_HEADER.size + wrapped_len
    if len(blob) < body_start + NONCE_SIZE + TAG_SIZE:
        raise CryptError("sealed data is truncated")
    wrapped = blob[_SEAL_HEADER.size : body_start]
    data_key = rsa_key.decrypt(wrapped)
    if len(data_key) != KEY_SIZE:
        raise CryptError("sealed data carries a malformed key")
    return decrypt(data_key, memoryview(blob)[body_start:], blob[:body_start] + associated_data)
