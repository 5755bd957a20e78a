"""One fragment object: a small versioned header, the share bytes, and a hash over both.

Layout (integers big-endian)::

    magic "BDFG" (4) | format (1) | N (2) | K (2) | block (8) | position (2)
    | data_length (4) | share_length (4)
    | key_id, customer, path_id, version: each as length (2) + UTF-8
    | sha256 (32) of everything before it plus the share
    | share

The hash covers the header too, so a flipped bit anywhere, header or share, is caught before zfec
ever sees the share; ``unpack`` also checks the header against what the caller expected, so a
fragment stored under the wrong name (swapped, replayed) is refused as well.
"""

from __future__ import annotations

import hashlib
import re
import struct

import attrs

from bitdust.raid.erasure import share_size
from bitdust.storage.codec.errors import CorruptFragment

MAGIC = b"BDFG"
FORMAT = 1
_FIXED = struct.Struct(">4sBHHQHII")
_LEN = struct.Struct(">H")
_DIGEST = 32
_SAFE = re.compile(rb"[A-Za-z0-9@.\-]")


def quote_part(text: str) -> str:
    """Percent-encode everything but a few safe characters, so ``_`` can separate the parts."""
    return "".join(chr(b) if _SAFE.fullmatch(bytes([b])) else f"%{b:02X}" for b in text.encode("utf-8"))


def unquote_part(text: str) -> str:
    raw = bytearray()
    index = 0
    while index < len(text):
        if text[index] == "%":
            raw.append(int(text[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.extend(text[index].encode("ascii"))
            index += 1
    return raw.decode("utf-8")


@attrs.frozen
class FragmentId:
    """Where a fragment belongs: whose file, which path and version, which block and position."""

    customer: str
    path_id: str
    version: str
    block: int
    position: int

    def file_name(self) -> str:
        """A stable, filesystem-safe name: the same id always gives the same name, and back."""
        parts = (quote_part(self.customer), quote_part(self.path_id), quote_part(self.version))
        return "_".join((*parts, str(self.block), str(self.position))) + ".bdf"

    @classmethod
    def from_file_name(cls, name: str) -> FragmentId:
        """Undo :meth:`file_name`; anything else is a ValueError."""
        if not name.endswith(".bdf"):
            raise ValueError(f"not a fragment file name: {name!r}")
        parts = name[: -len(".bdf")].split("_")
        if len(parts) != 5:
            raise ValueError(f"not a fragment file name: {name!r}")
        customer, path_id, version = (unquote_part(part) for part in parts[:3])
        return cls(customer, path_id, version, int(parts[3]), int(parts[4]))


@attrs.frozen
class Fragment:
    """An unpacked, verified fragment."""

    id: FragmentId
    key_id: str
    suppliers: int
    required: int
    data_length: int
    share: bytes


def _strings(*texts: str) -> bytes:
    out = bytearray()
    for text in texts:
        raw = text.encode("utf-8")
        out += _LEN.pack(len(raw)) + raw
    return bytes(out)


def pack(fragment: Fragment) -> bytes:
    """Serialise ``fragment`` with its hash; the inverse of :func:`unpack`."""
    fid = fragment.id
    head = _FIXED.pack(
        MAGIC,
        FORMAT,
        fragment.suppliers,
        fragment.required,
        fid.block,
        fid.position,
        fragment.data_length,
        len(fragment.share),
    ) + _strings(fragment.key_id, fid.customer, fid.path_id, fid.version)
    digest = hashlib.sha256(head)
    digest.update(fragment.share)
    return b"".join((head, digest.digest(), fragment.share))


def unpack(
    blob: bytes,
    *,
    expected: FragmentId | None = None,
    suppliers: int | None = None,
    required: int | None = None,
    key_id: str | None = None,
) -> Fragment:
    """Parse and verify ``blob``; any mismatch at all raises :class:`CorruptFragment`."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise CorruptFragment("fragment is not bytes")
    view = memoryview(blob)
    if len(view) < _FIXED.size:
        raise CorruptFragment("fragment is truncated")
    magic, fmt, n, k, block, position, data_length, share_length = _FIXED.unpack_from(view)
    if magic != MAGIC:
        raise CorruptFragment("bad fragment magic")
    if fmt != FORMAT:
        raise CorruptFragment(f"unsupported fragment format {fmt}")
    offset = _FIXED.size
    texts = []
    try:
        for _ in range(4):
            (size,) = _LEN.unpack_from(view, offset)
            offset += _LEN.size
            if offset + size > len(view):
                raise CorruptFragment("fragment is truncated")
            texts.append(bytes(view[offset : offset + size]).decode("utf-8"))
            offset += size
    except (struct.error, UnicodeDecodeError):
        raise CorruptFragment("fragment header is malformed") from None
    if len(view) != offset + _DIGEST + share_length:
        raise CorruptFragment("fragment length does not match its header")
    digest = hashlib.sha256(view[:offset])
    digest.update(view[offset + _DIGEST :])
    if digest.digest() != bytes(view[offset : offset + _DIGEST]):
        raise CorruptFragment("fragment hash mismatch")
    if not (1 <= k <= n and position < n and share_length == share_size(data_length, k)):
        raise CorruptFragment("fragment header fields are inconsistent")
    fid = FragmentId(texts[1], texts[2], texts[3], block, position)
    if expected is not None and fid != expected:
        raise CorruptFragment(f"fragment is {fid}, expected {expected}")
    if (suppliers is not None and n != suppliers) or (required is not None and k != required):
        raise CorruptFragment(f"fragment is coded {k} of {n}, expected {required} of {suppliers}")
    if key_id is not None and texts[0] != key_id:
        raise CorruptFragment("fragment belongs to another key")
    return Fragment(fid, texts[0], n, k, data_length, bytes(view[offset + _DIGEST :]))


def block_associated_data(key_id: str, path_id: str, version: str, block: int) -> bytes:
    """AES-GCM associated data of a block: a block cannot be moved to another file, version or slot."""
    return b"bitdust-block-v1" + _strings(key_id, path_id, version) + struct.pack(">Q", block)
