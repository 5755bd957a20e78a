"""Writing the identity backup (IDURL + master private key) to a file that did not exist.

The backup holds the one secret that recovers the identity, so it must never land somewhere the
caller did not mean: not over an existing file (which may be another backup), not through a
symbolic link, not as a file named after a folder. :func:`check_backup_path` refuses what is
wrong with the text of the path, before any disk access; :func:`write_new_file` checks the
folder, writes the data to a temporary file beside the target (mode 0600, fsync'ed) and puts it
in place with a hard link, which the kernel refuses when the name exists, so even a file created
by somebody else in the meantime is never overwritten. Once the link is made the backup exists:
nothing after that step can turn the call into a failure.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from twisted.logger import Logger

from bitdust.main.errors import InvalidInput

#: a longer name is refused by the file systems we run on (ext4, xfs, btrfs, apfs, ...)
NAME_MAX = 255
#: Linux's limit on a whole path
PATH_MAX = 4096
#: errors of os.link meaning "this file system has no hard links": fall back to O_EXCL
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}


def check_backup_path(text: object) -> Path:
    """The destination as a Path; InvalidInput (nothing touched) when the text cannot name a new file."""
    if not isinstance(text, str) or not text:
        raise InvalidInput("destination_filepath must be a non-empty path")
    if "\x00" in text:
        raise InvalidInput("destination_filepath must not contain a NUL byte")
    try:
        encoded = os.fsencode(text)
    except UnicodeEncodeError:
        raise InvalidInput("destination_filepath is not valid text (a lone surrogate?)") from None
    if not os.path.isabs(text):
        raise InvalidInput("destination_filepath must be an absolute path")
    if text.endswith("/") or text.endswith(os.sep):
        raise InvalidInput("destination_filepath ends with '/': give the name of the file to create")
    if len(encoded) > PATH_MAX:
        raise InvalidInput(f"destination_filepath is longer than {PATH_MAX} bytes")
    path = Path(text)
    if path.name in ("", ".", ".."):
        raise InvalidInput("destination_filepath must end with a file name")
    if len(os.fsencode(path.name)) > NAME_MAX:
        raise InvalidInput(f"the file name is longer than {NAME_MAX} bytes")
    return path


def write_new_file(path: Path, data: bytes, *, mode: int = 0o600, log: Logger | None = None) -> None:
    """Blocking: create ``path`` holding ``data``; InvalidInput (nothing written) when it cannot be new.

    Refused: a path that exists in any form (file, folder, symbolic link, even a dangling one), a
    folder that is missing or is not a folder, a folder we may not write to.
    """
    log = log or Logger()
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InvalidInput(f"folder {folder} {what}")
    if os.path.lexists(path):
        raise InvalidInput(f"{path} already exists ({_kind(path)}); give the name of a new file")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".bitdust-backup-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InvalidInput(f"cannot write in {folder}: {exc.strerror}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as tmp:
                os.fchmod(tmp.fileno(), mode)
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            _link_new(tmp_name, path, data, mode, log)
        except FileExistsError:
            raise InvalidInput(f"{path} already exists; give the name of a new file") from None
        except OSError as exc:
            raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    finally:
        _remove_quietly(tmp_name, log)
    # The backup is in place: from here on, problems are logged, never raised.
    _sync_folder(folder, log)


def _link_new(tmp_name: str, path: Path, data: bytes, mode: int, log: Logger) -> None:
    """Give the finished temporary file its real name; never replaces an existing name."""
    try:
        os.link(tmp_name, path, follow_symlinks=False)
        return
    except OSError as exc:
        if isinstance(exc, FileExistsError) or exc.errno not in _NO_HARD_LINKS:
            raise
    # No hard links here (some FUSE or FAT mounts): create the name exclusively and fill it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as target:
            target.write(data)
            target.flush()
            os.fsync(target.fileno())
    except BaseException:
        _remove_quietly(str(path), log)  # our own half-written file, created just above
        raise


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "a symbolic link"
    if path.is_dir():
        return "a folder"
    return "a file"


def _remove_quietly(name: str, log: Logger) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warn("cannot remove the temporary file {name}: {error}", name=name, error=exc.strerror)


def _sync_folder(folder: Path, log: Logger) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        log.warn("cannot fsync {folder} after writing the backup: {error}", folder=str(folder), error=exc.strerror)
