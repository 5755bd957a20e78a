"""zfec erasure coding of one block into N equal shares, any K of which give the block back.

Padding is done here (the block is padded with zeros to a multiple of K) but the true length is
the caller's to record: the fragment header carries it, so a share alone never has to be trusted
for it.
"""

from __future__ import annotations

import zfec

from bitdust.main.errors import InternalError
from bitdust.raid.eccmap import EccMap


class ErasureError(InternalError):
    """Shares that cannot be decoded: too few, wrong sizes, unknown positions."""


def share_size(length: int, required: int) -> int:
    """Size of each share for a block of ``length`` bytes coded K=``required`` (never zero: zfec needs data)."""
    return max(1, -(-length // required))


def encode(block: bytes, ecc: EccMap) -> list[bytes]:
    """Split ``block`` into K primary shares and compute N - K secondary ones; returns all N."""
    size = share_size(len(block), ecc.required)
    view = memoryview(block)
    primaries = []
    for index in range(ecc.required):
        piece = bytes(view[index * size : (index + 1) * size])
        if len(piece) < size:
            piece = piece + bytes(size - len(piece))
        primaries.append(piece)
    try:
        shares = zfec.Encoder(ecc.required, ecc.suppliers).encode(tuple(primaries))
    except (zfec.Error, ValueError, TypeError) as exc:
        raise ErasureError(f"zfec encoding failed: {exc}") from None
    return [bytes(share) for share in shares]


def decode(shares: dict[int, bytes], ecc: EccMap, length: int) -> bytes:
    """Rebuild the ``length``-byte block from any K of its shares, keyed by position."""
    if len(shares) < ecc.required:
        raise ErasureError(f"{len(shares)} shares given, {ecc.required} needed")
    chosen = sorted(shares)[: ecc.required]
    if any(not 0 <= position < ecc.suppliers for position in chosen):
        raise ErasureError(f"share positions {chosen} outside 0..{ecc.suppliers - 1}")
    size = share_size(length, ecc.required)
    pieces = [shares[position] for position in chosen]
    if any(len(piece) != size for piece in pieces):
        raise ErasureError(f"shares of a {length}-byte block must be {size} bytes each")
    try:
        primaries = zfec.Decoder(ecc.required, ecc.suppliers).decode(tuple(pieces), tuple(chosen))
    except (zfec.Error, ValueError, TypeError) as exc:
        raise ErasureError(f"zfec decoding failed: {exc}") from None
    return b"".join(primaries)[:length]
