"""Errors of the storage codec, all :class:`BitDustError` so the API layer can answer them."""

from __future__ import annotations

from bitdust.main.errors import BadRequest, BitDustError


class CorruptFragment(BitDustError):
    """A fragment blob that fails any check; the downloader treats it as missing."""


class BlockUnavailable(BitDustError):
    """Fewer than K good fragments for a block: the file cannot be rebuilt now."""

    http_code = 503

    def __init__(self, block: int, *, found: int, required: int) -> None:
        super().__init__(f"block {block} is unavailable: {found} good fragments, {required} needed")
        self.block = block
        self.found = found
        self.required = required


class CorruptBlock(BitDustError):
    """K fragments verified but the rebuilt block did not decrypt or hash right: tampered data."""

    def __init__(self, block: int, reason: str) -> None:
        super().__init__(f"block {block} is corrupt: {reason}")
        self.block = block


class UnsafeArchive(BadRequest):
    """A tar member that would write outside the destination (absolute, ``..``, escaping link)."""


class BadManifest(BadRequest):
    """A manifest that is not one we wrote: unknown format, missing or inconsistent fields."""
