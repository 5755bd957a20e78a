"""A folder as a streamed tar archive, and the careful way back.

Upload writes the archive into any object with ``write`` (tarfile's ``w|`` mode never seeks, so
nothing is materialised on disk or in memory): regular files, folders and symlinks (as links) with
their modes and mtimes; fifos, sockets and devices are skipped with a warning, and hard links are
stored as plain copies so the archive never refers back into itself.

Download reads an archive in ``r|`` mode and writes the members itself instead of trusting
``extractall``: absolute names, ``..`` parts, links pointing outside the destination and writes
through such links are refused with :class:`UnsafeArchive`. Set-uid/set-gid/sticky bits are dropped.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from twisted.logger import Logger

from bitdust.storage.codec.errors import UnsafeArchive

log = Logger()
_CHUNK = 1 << 20
_MODE_BITS = 0o777


def _warn_skip(path: str, kind: str) -> None:
    log.warn("skipping {kind} {path}: only files, folders and symlinks are backed up", kind=kind, path=path)


def write_folder(
    folder: str | os.PathLike[str], fileobj: IO[bytes], on_skip: Callable[[str], None] | None = None
) -> None:
    """Stream ``folder``'s contents as a PAX tar archive into ``fileobj`` (names relative to it)."""
    root = Path(folder)
    with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for current, dirnames, filenames in os.walk(root):
            dirnames.sort()
            base = Path(current)
            for name in [*dirnames, *sorted(filenames)]:
                full = base / name
                arcname = full.relative_to(root).as_posix()
                info = tar.gettarinfo(str(full), arcname)
                if info is None or not (info.isreg() or info.isdir() or info.issym() or info.islnk()):
                    _warn_skip(str(full), "special file")
                    if on_skip is not None:
                        on_skip(arcname)
                    continue
                if info.islnk():  # a second name of a file already stored: store it again, plainly
                    info.type = tarfile.REGTYPE
                    info.linkname = ""
                    info.size = full.lstat().st_size
                info.uname = info.gname = ""
                if info.isreg():
                    with open(full, "rb") as handle:
                        tar.addfile(info, handle)
                else:
                    tar.addfile(info)


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _checked_target(root: str, name: str) -> str:
    """The real path a member called ``name`` may be written to, or UnsafeArchive."""
    if not name or name.startswith("/") or "\\" in name or ":" in name.split("/")[0]:
        raise UnsafeArchive(f"archive member {name!r} has an absolute or foreign path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise UnsafeArchive(f"archive member {name!r} climbs out with '..'")
    if not parts:
        return root
    target = os.path.join(root, *parts)
    if not _inside(root, os.path.realpath(os.path.dirname(target))):
        raise UnsafeArchive(f"archive member {name!r} would be written through a link out of the destination")
    return target


def _check_link(root: str, name: str, linkname: str) -> None:
    if not linkname or linkname.startswith("/"):
        raise UnsafeArchive(f"symlink {name!r} points to an absolute path")
    lexical = posixpath.normpath(posixpath.join(posixpath.dirname(name), linkname))
    if lexical == ".." or lexical.startswith("../"):
        raise UnsafeArchive(f"symlink {name!r} points outside the destination")
    real = os.path.realpath(os.path.join(root, os.path.dirname(name), linkname))
    if not _inside(root, real):
        raise UnsafeArchive(f"symlink {name!r} points outside the destination")


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, target: str) -> None:
    source = tar.extractfile(member)
    if source is None:
        raise UnsafeArchive(f"archive member {member.name!r} has no data")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except OSError as exc:
        raise UnsafeArchive(f"cannot write archive member {member.name!r}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)
    os.chmod(target, member.mode & _MODE_BITS)
    os.utime(target, (member.mtime, member.mtime))


def extract_stream(
    fileobj: IO[bytes], destination: str | os.PathLike[str], on_skip: Callable[[str], None] | None = None
) -> None:
    """Extract a streamed archive into the existing, empty folder ``destination``."""
    root = os.path.realpath(destination)
    folders: list[tuple[str, tarfile.TarInfo]] = []
    with tarfile.open(fileobj=fileobj, mode="r|") as tar:
        for member in tar:
            target = _checked_target(root, member.name)
            if member.isdir():
                if target != root:
                    os.makedirs(target, mode=0o700, exist_ok=True)
                    if os.path.islink(target):
                        raise UnsafeArchive(f"folder {member.name!r} is already a symlink")
                    folders.append((target, member))
                continue
            if target == root:
                raise UnsafeArchive(f"archive member {member.name!r} would replace the destination")
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            if member.isreg():
                _write_file(tar, member, target)
            elif member.issym():
                _check_link(root, member.name, member.linkname)
                if os.path.lexists(target):
                    raise UnsafeArchive(f"symlink {member.name!r} would replace an existing entry")
                os.symlink(member.linkname, target)
                os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
            else:
                _warn_skip(member.name, "archive member of unsupported type")
                if on_skip is not None:
                    on_skip(member.name)
    for target, member in sorted(folders, key=lambda item: item[0].count(os.sep), reverse=True):
        os.chmod(target, member.mode & _MODE_BITS)
        os.utime(target, (member.mtime, member.mtime))
