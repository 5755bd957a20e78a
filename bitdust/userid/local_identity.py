"""This node's own identity document, kept in ``metadata/localidentity``.

The document is public (it is what identity servers publish); the private half, the master key,
lives in the key registry. Disk methods are blocking and run in a worker thread.
"""

from __future__ import annotations

from pathlib import Path

from twisted.logger import Logger

from bitdust.main.process.fileutil import atomic_write
from bitdust.userid.errors import IdentityError
from bitdust.userid.identity import Identity


class LocalIdentity:
    """Holds the current identity of the node (or None before one is created or recovered)."""

    def __init__(self, path: Path, *, log: Logger | None = None) -> None:
        self.path = path
        self._log = log or Logger()
        self.current: Identity | None = None

    @property
    def exists(self) -> bool:
        return self.current is not None

    def load(self) -> Identity | None:
        """Blocking: read the saved identity; a damaged file is logged and ignored."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            self.current = None
            return None
        try:
            self.current = Identity.from_xml(data)
        except IdentityError as exc:
            self._log.error("local identity {path} is damaged: {reason}", path=str(self.path), reason=exc.message)
            self.current = None
        return self.current

    def save(self, identity: Identity) -> None:
        """Blocking: write the signed document atomically, then make it current."""
        atomic_write(self.path, identity.to_xml(), mode=0o600)
        self.current = identity

    def erase(self) -> None:
        """Blocking: forget the identity (the master key is the key registry's business)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self.current = None
