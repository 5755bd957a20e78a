"""The identity cache's folder: one ``<global_id>.xml`` per identity and the sources bound to its key.

Every function here is blocking (file reads and writes, XML parsing with signature checks): the
cache runs them through its ``run_blocking``, or at startup before it is shared. Each file is
written atomically, so a crash leaves either the old or the new content, never a torn file.

What was bound from where is kept next to each document (``<global_id>.bound.json``: the public
key and the bound sources), so a restart re-binds exactly that; bindings that are missing, too
large, malformed or for another key bind nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable
from pathlib import Path

from twisted.logger import Logger

from bitdust.main.process.fileutil import atomic_write
from bitdust.userid.errors import IdentityError
from bitdust.userid.identity import Identity
from bitdust.userid.idurl import IdUrl

MAX_BINDINGS_FILE = 8 * 1024
BINDINGS_SUFFIX = ".bound.json"

#: one stored identity as :func:`read_folder` finds it: the document, its file's mtime, its bound sources
StoredIdentity = tuple[Identity, float, frozenset[IdUrl]]


def path_for(folder: Path, idurl: IdUrl) -> Path:
    """``<global_id>.xml``: host names cannot hold ``_`` or ``..``, so this is unique and safe."""
    return folder / f"{idurl.global_id}.xml"


def bindings_path_for(folder: Path, idurl: IdUrl) -> Path:
    """``<global_id>.bound.json``: which sources of the document beside it were bound, and to which key."""
    return folder / f"{idurl.global_id}{BINDINGS_SUFFIX}"


def persist(folder: Path, identity: Identity, bound: Collection[IdUrl]) -> None:
    """Write ``identity`` and the sources ``bound`` to its key, the document first.

    A crash between the two leaves bindings of an older revision of the same key, still true.
    """
    atomic_write(path_for(folder, identity.idurl), identity.to_xml())
    record = {"publickey": identity.public_key, "bound": sorted(source.url for source in bound)}
    atomic_write(bindings_path_for(folder, identity.idurl), json.dumps(record, sort_keys=True) + "\n")


def erase(folder: Path, idurls: Iterable[IdUrl]) -> None:
    """Remove the files kept for ``idurls`` (those already gone are fine)."""
    for idurl in idurls:
        for path in (path_for(folder, idurl), bindings_path_for(folder, idurl)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def read_bindings(folder: Path, identity: Identity, log: Logger) -> frozenset[IdUrl]:
    """The sources stored as bound to ``identity``'s key; none when missing or for another key."""
    path = bindings_path_for(folder, identity.idurl)
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_BINDINGS_FILE:
            raise ValueError("too large")
        record = json.loads(raw)
        if not isinstance(record, dict) or record.get("publickey") != identity.public_key:
            raise ValueError("it is for another key")
        urls = record.get("bound")
        if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
            raise ValueError("no list of sources")
    except FileNotFoundError:
        urls = []
    except (OSError, ValueError) as exc:
        log.warn("ignoring identity bindings {path}: {error}", path=str(path), error=str(exc))
        urls = []
    return frozenset(source for source in identity.sources if source.url in urls)


def read_folder(folder: Path, log: Logger) -> list[StoredIdentity]:
    """Every stored identity with its bindings; corrupt or misnamed files are skipped (and logged)."""
    found: list[StoredIdentity] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.xml")):
        if path.name.startswith("."):
            continue
        try:
            data = path.read_bytes()
            identity = Identity.from_xml(data)
        except (OSError, IdentityError) as exc:
            log.warn("skipping identity file {path}: {error}", path=str(path), error=str(exc))
            continue
        if path.name != f"{identity.global_id}.xml":
            log.warn("skipping identity file {path}: it holds {gid}", path=str(path), gid=identity.global_id)
            continue
        found.append((identity, os.stat(path).st_mtime, read_bindings(folder, identity, log)))
    return found
