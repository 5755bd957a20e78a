"""The identity backup file is created, never replaced, and never written halfway."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from bitdust.main.errors import InvalidInput
from bitdust.userid import key_backup
from bitdust.userid.key_backup import check_backup_path, write_new_file

DATA = b"http://127.0.0.1:8084/alice.xml\n-----BEGIN RSA PRIVATE KEY-----\n...\n"


def listing(folder: Path) -> dict[str, bytes | str]:
    """Every name in ``folder`` with its content (or link target): to show nothing changed."""
    out: dict[str, bytes | str] = {}
    for item in sorted(folder.iterdir()):
        if item.is_symlink():
            out[item.name] = "-> " + os.readlink(item)
        elif item.is_dir():
            out[item.name] = "<dir>"
        else:
            out[item.name] = item.read_bytes()
    return out


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "non-empty"),
        ("relative/backup.txt", "absolute"),
        ("/tmp/back\x00up.txt", "NUL"),
        ("/tmp/folder/", "ends with '/'"),
        ("/tmp/" + "x" * 300, "longer than 255"),
        ("/" + "d/" * 2100 + "f", "longer than 4096"),
        ("/tmp/\ud800.txt", "lone surrogate"),
        ("/tmp/..", "file name"),
        (None, "non-empty"),
    ],
)
def test_paths_that_cannot_name_a_new_file_are_refused_before_any_disk_access(text, reason) -> None:
    with pytest.raises(InvalidInput, match=reason):
        check_backup_path(text)


def test_a_new_file_is_written_with_mode_0600_and_no_temporary_left(tmp_path: Path) -> None:
    target = tmp_path / "backup.txt"
    write_new_file(check_backup_path(str(target)), DATA)
    assert target.read_bytes() == DATA
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["backup.txt"]


def make_existing(tmp_path: Path, kind: str) -> Path:
    target = tmp_path / "backup.txt"
    if kind == "file":
        target.write_bytes(b"an older backup")
    elif kind == "folder":
        target.mkdir()
    elif kind == "symlink":
        (tmp_path / "elsewhere").write_bytes(b"somebody's file")
        target.symlink_to(tmp_path / "elsewhere")
    elif kind == "dangling symlink":
        target.symlink_to(tmp_path / "nowhere")
    return target


@pytest.mark.parametrize("kind", ["file", "folder", "symlink", "dangling symlink"])
def test_an_existing_path_is_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    target = make_existing(tmp_path, kind)
    before = listing(tmp_path)
    with pytest.raises(InvalidInput, match="already exists"):
        write_new_file(check_backup_path(str(target)), DATA)
    assert listing(tmp_path) == before


def test_a_missing_folder_or_a_file_as_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        write_new_file(check_backup_path(str(tmp_path / "missing" / "backup.txt")), DATA)
    (tmp_path / "plain").write_bytes(b"x")
    with pytest.raises(InvalidInput, match="is not a folder"):
        write_new_file(check_backup_path(str(tmp_path / "plain" / "backup.txt")), DATA)
    assert listing(tmp_path) == {"plain": b"x"}


def test_a_folder_we_may_not_write_to_is_a_bad_request(tmp_path: Path, monkeypatch) -> None:
    def denied(*args, **kwargs):  # as for a non-root user in a read-only folder
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(key_backup.tempfile, "mkstemp", denied)
    with pytest.raises(InvalidInput, match="cannot write in .*Permission denied"):
        write_new_file(check_backup_path(str(tmp_path / "backup.txt")), DATA)
    assert list(tmp_path.iterdir()) == []


def test_a_file_created_meanwhile_is_not_overwritten(tmp_path: Path, monkeypatch) -> None:
    """The name appears between the check and the link: the link refuses, the other file stays."""
    target = tmp_path / "backup.txt"
    real_link = os.link

    def racing_link(src, dst, **kwargs):
        Path(dst).write_bytes(b"written by somebody else")
        return real_link(src, dst, **kwargs)

    monkeypatch.setattr(key_backup.os, "link", racing_link)
    with pytest.raises(InvalidInput, match="already exists"):
        write_new_file(target, DATA)
    assert listing(tmp_path) == {"backup.txt": b"written by somebody else"}


def test_without_hard_links_the_file_is_still_created_exclusively(tmp_path: Path, monkeypatch) -> None:
    def no_links(src, dst, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(key_backup.os, "link", no_links)
    target = tmp_path / "backup.txt"
    write_new_file(target, DATA)
    assert listing(tmp_path) == {"backup.txt": DATA}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(InvalidInput, match="already exists"):
        write_new_file(target, b"again")
    assert listing(tmp_path) == {"backup.txt": DATA}


def test_nothing_after_the_key_is_in_place_reports_a_failure(tmp_path: Path, monkeypatch) -> None:
    real_unlink, real_open = os.unlink, os.open
    target = tmp_path / "backup.txt"

    def failing_unlink(name, *args, **kwargs):
        if os.path.exists(target):  # the backup is in place: cleaning up fails from now on
            raise OSError(errno.EIO, "I/O error")
        return real_unlink(name, *args, **kwargs)

    def failing_dir_open(name, flags, *args, **kwargs):
        if Path(name) == tmp_path:
            raise OSError(errno.EIO, "I/O error")
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(key_backup.os, "unlink", failing_unlink)
    monkeypatch.setattr(key_backup.os, "open", failing_dir_open)
    write_new_file(target, DATA)  # no exception: the backup exists
    assert target.read_bytes() == DATA
