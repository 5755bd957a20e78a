"""The manifest of one uploaded version: everything needed, with the private key, to get it back.

It is JSON-serialisable because it will live in the catalog and be backed up to suppliers; it
holds no secret in the clear (the data key is wrapped with RSA-OAEP under ``key_id``'s key).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import attrs

from bitdust.raid.eccmap import eccmap
from bitdust.storage.codec.errors import BadManifest

MANIFEST_FORMAT = 1
KINDS = ("file", "folder")


@attrs.frozen
class BlockInfo:
    """One block as stored: its compressed plaintext length and SHA-256 (hex), before encryption."""

    length: int
    sha256: str


@attrs.frozen
class Progress:
    """Reported after each block: which direction, how many blocks and source bytes are done."""

    direction: str
    blocks: int
    bytes: int
    total_blocks: int | None = None
    total_bytes: int | None = None


@attrs.frozen
class Manifest:
    """What :func:`~bitdust.storage.codec.pipeline.upload` produced."""

    key_id: str
    customer: str
    path_id: str
    version: str
    wrapped_key: bytes
    ecc: str
    block_size: int
    kind: str
    total_size: int
    source_sha256: str
    blocks: tuple[BlockInfo, ...]
    format: int = MANIFEST_FORMAT

    @property
    def block_count(self) -> int:
        return len(self.blocks)

    @property
    def stored_size(self) -> int:
        """Bytes after compression, before encryption and erasure coding."""
        return sum(block.length for block in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "key_id": self.key_id,
            "customer": self.customer,
            "path_id": self.path_id,
            "version": self.version,
            "wrapped_key": base64.b64encode(self.wrapped_key).decode("ascii"),
            "ecc": self.ecc,
            "block_size": self.block_size,
            "block_count": self.block_count,
            "kind": self.kind,
            "total_size": self.total_size,
            "stored_size": self.stored_size,
            "source_sha256": self.source_sha256,
            "blocks": [[block.length, block.sha256] for block in self.blocks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Parse and check a manifest dict; anything unexpected is :class:`BadManifest`."""
        try:
            if data["format"] != MANIFEST_FORMAT:
                raise BadManifest(f"unsupported manifest format {data['format']!r}")
            blocks = tuple(BlockInfo(int(length), str(digest)) for length, digest in data["blocks"])
            manifest = cls(
                key_id=str(data["key_id"]),
                customer=str(data["customer"]),
                path_id=str(data["path_id"]),
                version=str(data["version"]),
                wrapped_key=base64.b64decode(data["wrapped_key"], validate=True),
                ecc=str(data["ecc"]),
                block_size=int(data["block_size"]),
                kind=str(data["kind"]),
                total_size=int(data["total_size"]),
                source_sha256=str(data["source_sha256"]),
                blocks=blocks,
            )
            eccmap(manifest.ecc)
        except BadManifest:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadManifest(f"malformed manifest: {exc!r}") from None
        if int(data.get("block_count", len(blocks))) != len(blocks) or manifest.kind not in KINDS or not blocks:
            raise BadManifest("manifest fields are inconsistent")
        return manifest

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise BadManifest(f"manifest is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BadManifest("manifest is not a JSON object")
        return cls.from_dict(data)
