"""The identity server's storage: one ``<name>.xml`` per hosted user, served from disk.

Only a small index lives in memory for every hosted name (which key holds it, its revision and
size: what the registration rules and quotas need), plus an LRU of recently served documents. The
documents themselves stay on disk, so the memory a server needs does not grow with what strangers
post to it (issue 11 point 8: 500 documents of 30 KB were all held in memory before).

Threading: ``load``, ``read``, ``read_identity`` and ``write`` are blocking and run in a worker
thread; everything else touches only memory and belongs to the reactor thread.
"""

from __future__ import annotations

import collections
import hashlib
from pathlib import Path

import attrs
from twisted.logger import Logger

from bitdust.main.process.fileutil import atomic_write
from bitdust.userid.errors import IdentityError
from bitdust.userid.identity import Identity
from bitdust.userid.idurl import USERNAME_RE, check_username

DEFAULT_CACHE_BYTES = 4 << 20
"""Documents kept in memory for serving: at most 4 MiB (about 128 of the largest documents)."""


def key_id_of(public_key: str) -> str:
    """A short, fixed-size stand-in for a public key in the index (the key text is 400+ bytes)."""
    return hashlib.sha256(public_key.encode("utf-8")).hexdigest()[:32]


@attrs.frozen
class StoredEntry:
    """What the index knows about one hosted name without reading its file."""

    key_id: str
    revision: int
    size: int


class IdentityStore:
    """The identities this server hosts: files on disk, an index and a bounded cache in memory."""

    def __init__(self, folder: Path, *, log: Logger | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.folder = Path(folder)
        self._log = log if log is not None else Logger(namespace="bitdust.userid.identity_server")
        self._index: dict[str, StoredEntry] = {}
        self._per_key: collections.Counter[str] = collections.Counter()
        self._cache: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._cache_bytes = 0
        self.cache_limit = cache_bytes

    def path_for(self, name: str) -> Path:
        return self.folder / f"{check_username(name)}.xml"

    # -- blocking -----------------------------------------------------------------------------

    def load(self) -> int:
        """Blocking: index every stored identity; unreadable or misnamed files are logged and skipped."""
        self._index.clear()
        self._per_key.clear()
        self._cache.clear()
        self._cache_bytes = 0
        if not self.folder.is_dir():
            return 0
        for path in sorted(self.folder.glob("*.xml")):
            name = path.name[:-4]
            if not USERNAME_RE.fullmatch(name):
                continue
            try:
                data = path.read_bytes()
                identity = Identity.from_xml(data)
            except (OSError, IdentityError) as exc:
                self._log.warn("skipping stored identity {path}: {error}", path=str(path), error=str(exc))
                continue
            if identity.name != name:
                self._log.warn(
                    "skipping stored identity {path}: it is for {other}", path=str(path), other=identity.name
                )
                continue
            self._put_entry(name, StoredEntry(key_id_of(identity.public_key), identity.revision, len(data)))
        return len(self._index)

    def read(self, name: str) -> bytes | None:
        """Blocking: the stored document exactly as it is on disk, or None when it is gone."""
        try:
            return self.path_for(name).read_bytes()
        except FileNotFoundError:
            return None

    def read_identity(self, name: str) -> Identity | None:
        """Blocking: the stored document parsed (and its signature checked again)."""
        data = self.read(name)
        return Identity.from_xml(data) if data is not None else None

    def write(self, identity: Identity) -> bytes:
        """Blocking: write ``identity`` atomically; returns the bytes for :meth:`remember`."""
        data = identity.to_xml().encode("utf-8")
        atomic_write(self.path_for(identity.name), data)
        return data

    # -- memory only (reactor thread) ---------------------------------------------------------

    def entry(self, name: str) -> StoredEntry | None:
        return self._index.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self._index)

    def names(self) -> list[str]:
        return sorted(self._index)

    def names_held_by(self, key_id: str) -> int:
        """How many names the key ``key_id`` holds here (the per-key quota counts these)."""
        return self._per_key[key_id]

    def cached(self, name: str) -> bytes | None:
        """The document if it was served or written lately; None means: read it from disk."""
        data = self._cache.get(name)
        if data is not None:
            self._cache.move_to_end(name)
        return data

    def cache(self, name: str, data: bytes) -> None:
        """Keep ``data`` for serving, forgetting the least recently used documents past the limit."""
        if name not in self._index:
            return
        old = self._cache.pop(name, None)
        if old is not None:
            self._cache_bytes -= len(old)
        if len(data) > self.cache_limit:
            return
        self._cache[name] = data
        self._cache_bytes += len(data)
        while self._cache_bytes > self.cache_limit:
            _name, dropped = self._cache.popitem(last=False)
            self._cache_bytes -= len(dropped)

    def cache_size(self) -> int:
        return self._cache_bytes

    def remember(self, identity: Identity, data: bytes) -> None:
        """Serve ``data`` for ``identity.name`` from now on (after :meth:`write` succeeded)."""
        self._put_entry(identity.name, StoredEntry(key_id_of(identity.public_key), identity.revision, len(data)))
        self.cache(identity.name, data)

    def _put_entry(self, name: str, entry: StoredEntry) -> None:
        old = self._index.get(name)
        if old is not None:
            self._per_key[old.key_id] -= 1
            if not self._per_key[old.key_id]:
                del self._per_key[old.key_id]
        self._index[name] = entry
        self._per_key[entry.key_id] += 1
