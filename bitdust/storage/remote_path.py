"""Remote paths: ``key_id:path/to/file``, the name a user gives a file in the catalog.

The key id says whose key encrypts the data (``master$alice@host`` for alice's own files, a share
key for a shared folder); a path without ``key_id:`` belongs to the node's master key. Everything
here is pure: one parse with every rule in it, so the API, the catalog and later the upload
pipeline reject the same inputs with the same reasons.

Rules, and why:

* leading and trailing ``/`` are stripped (``/docs/`` is ``docs``): users type both forms and they
  must name one item, never two;
* the path is NFC-normalised, so the same visible name typed on two systems is one item;
* no empty (``a//b``), ``.`` or ``..`` segments: a remote path is later used to build local paths
  on download, and must never climb out of the destination folder;
* no control characters (NUL included): they break logs, terminals and file systems;
* at most 4096 characters and 255 UTF-8 bytes per segment: the limits of common file systems.
"""

from __future__ import annotations

import unicodedata

import attrs

from bitdust.crypt.key_id import check_key_id
from bitdust.main.errors import InvalidInput

MAX_PATH_LENGTH = 4096
MAX_SEGMENT_BYTES = 255


@attrs.frozen
class RemotePath:
    """A checked remote path; ``path`` is ``""`` only for the root of a key (listing only)."""

    key_id: str
    path: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("/")) if self.path else ()

    @property
    def name(self) -> str:
        """The last segment (``""`` for the root)."""
        return self.segments[-1] if self.path else ""

    @property
    def is_root(self) -> bool:
        return not self.path

    def parent(self) -> RemotePath | None:
        """The folder holding this item (the root for a top-level item), ``None`` for the root."""
        if self.is_root:
            return None
        return RemotePath(self.key_id, "/".join(self.segments[:-1]))

    def ancestors(self) -> list[RemotePath]:
        """Every folder above this item, outermost first, the root excluded."""
        parts = self.segments
        return [RemotePath(self.key_id, "/".join(parts[:i])) for i in range(1, len(parts))]

    def child(self, name: str) -> RemotePath:
        return RemotePath(self.key_id, f"{self.path}/{name}" if self.path else name)

    def __str__(self) -> str:
        return f"{self.key_id}:{self.path}"


def split_key_prefix(text: str) -> tuple[str | None, str]:
    """``("alias$user@host", "a/b")`` for ``alias$user@host:a/b``; ``(None, text)`` without a key id.

    A prefix counts as a key id only when it holds a ``$``, so a path such as ``notes:2024/a``
    (no key id) keeps its colon.
    """
    head, sep, tail = text.partition(":")
    if sep and "$" in head:
        return head, tail
    return None, text


def check_path(path: str, *, allow_root: bool = False) -> str:
    """The normalised path, or InvalidInput saying which rule it breaks."""
    if not isinstance(path, str):
        raise InvalidInput("remote path must be a string")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidInput(f"remote path is longer than {MAX_PATH_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in path):
        raise InvalidInput("remote path must not contain control characters")
    path = unicodedata.normalize("NFC", path).strip("/")
    if not path:
        if allow_root:
            return ""
        raise InvalidInput("remote path is empty")
    for segment in path.split("/"):
        if not segment:
            raise InvalidInput(f"remote path {path!r} has an empty segment")
        if segment in (".", ".."):
            raise InvalidInput(f"remote path {path!r} must not contain '.' or '..' segments")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidInput(f"remote path segment {segment[:40]!r}... is longer than {MAX_SEGMENT_BYTES} bytes")
    return path


def parse_remote_path(text: str, default_key_id: str | None, *, allow_root: bool = False) -> RemotePath:
    """Parse ``[key_id:]path``; without a key id the path belongs to ``default_key_id``.

    ``allow_root`` accepts an empty path (``master$alice@host:`` or ``""``): listing a key's
    top level is meaningful, creating or deleting it is not.
    """
    if not isinstance(text, str):
        raise InvalidInput("remote path must be a string")
    key_id, path = split_key_prefix(text)
    if key_id is None:
        if default_key_id is None:
            raise InvalidInput(f"remote path {text[:80]!r} has no key id and this node has no master key yet")
        key_id = default_key_id
    check_key_id(key_id)
    return RemotePath(key_id, check_path(path, allow_root=allow_root))
