"""160-bit node ids and keys: the XOR metric of Kademlia.

An id is 20 raw bytes. A value's key is a text chosen by the application (``alice:0``); its place
in the id space is the SHA-1 of its UTF-8 bytes (SHA-1 only spreads keys, nobody signs with it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random

from bitdust.main.errors import InvalidInput

ID_BYTES = 20
ID_BITS = ID_BYTES * 8
MAX_KEY_LENGTH = 256


def check_id(value: object) -> bytes:
    """``value`` if it is a node id (20 bytes); ValueError otherwise."""
    if not isinstance(value, bytes) or len(value) != ID_BYTES:
        raise ValueError("a node id is 20 bytes")
    return value


def random_id(rng: random.Random) -> bytes:
    """A random id from ``rng`` (injected, so that simulations are deterministic)."""
    return rng.getrandbits(ID_BITS).to_bytes(ID_BYTES, "big")


def to_int(node_id: bytes) -> int:
    return int.from_bytes(node_id, "big")


def from_int(number: int) -> bytes:
    return number.to_bytes(ID_BYTES, "big")


def distance(a: bytes, b: bytes) -> int:
    """The XOR distance of two ids, as an integer (smaller is closer)."""
    return int.from_bytes(a, "big") ^ int.from_bytes(b, "big")


def bucket_index(own: bytes, other: bytes) -> int:
    """Which k-bucket ``other`` belongs in: the position of the highest differing bit (0..159), -1 if equal."""
    return distance(own, other).bit_length() - 1


def random_id_in_bucket(own: bytes, index: int, rng: random.Random) -> bytes:
    """A random id whose distance from ``own`` has its highest bit at ``index`` (for bucket refresh)."""
    low = rng.getrandbits(index) if index > 0 else 0
    return from_int(to_int(own) ^ ((1 << index) | low))


def check_key(key: object) -> str:
    """A DHT key: 1 to 256 characters of printable text (InvalidInput otherwise)."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"a DHT key is text of 1 to {MAX_KEY_LENGTH} characters")
    if not key.isprintable():
        raise InvalidInput("a DHT key must not contain control characters")
    return key


def key_hash(key: str) -> bytes:
    """Where ``key`` lives in the id space."""
    return hashlib.sha1(key.encode("utf-8")).digest()


def encode_id(node_id: bytes) -> str:
    """The text form of an id in API answers: standard base64 (the original's ``node_id_64``)."""
    return base64.b64encode(node_id).decode("ascii")


def decode_id(text: str) -> bytes:
    """An id from base64 (standard or URL-safe) or 40 hex digits; InvalidInput when it is neither."""
    if not isinstance(text, str):
        raise InvalidInput("a node id is text: base64 or 40 hex digits")
    text = text.strip()
    if len(text) == ID_BYTES * 2:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != ID_BYTES:
        raise InvalidInput(f"bad node id {text[:60]!r}: expected 20 bytes as base64 or 40 hex digits")
    return raw
