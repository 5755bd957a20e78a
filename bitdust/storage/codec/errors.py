"""Errors of the storage codec, each of a kind of :mod:`bitdust.errors` so the API layer can answer them."""

from __future__ import annotations

from bitdust.main.errors import InternalError, InvalidInput, Unavailable


class CorruptFragment(InternalError):
    """A fragment blob that fails any check; the downloader treats it as missing."""


class BlockUnavailable(Unavailable):
    """Fewer than K good fragments for a block: the file cannot be rebuilt now."""

    def __init__(self, block: int, *, found: int, required: int) -> None:
        super().__init__(f"block {block} is unavailable: {found} good fragments, {required} needed")
        self.block = block
        self.found = found
        self.required = required


class CorruptBlock(InternalError):
    """K fragments verified but the rebuilt block did not decrypt or hash right: tampered data."""

    def __init__(self, block: int, reason: str) -> None:
        super().__init__(f"block {block} is corrupt: {reason}")
        self.block = block


class UnsafeArchive(InvalidInput):
    """A tar member that would write outside the destination (absolute, ``..``, escaping link)."""


class BadManifest(InvalidInput):
    """A manifest that is not one we wrote: unknown format, missing or inconsistent fields."""
