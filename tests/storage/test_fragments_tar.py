"""The tar stream: round trip of a folder tree and refusal of malicious archives."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from bitdust.storage.codec.errors import UnsafeArchive
from bitdust.storage.codec.tarstream import extract_stream, write_folder


def make_tree(root: Path) -> None:
    (root / "a" / "b ü").mkdir(parents=True)
    (root / "a" / "b ü" / "日本.txt").write_text("nested unicode")
    (root / "top.bin").write_bytes(bytes(range(256)) * 10)
    (root / "empty").mkdir()
    script = root / "a" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o751)
    os.utime(script, (1_600_000_000, 1_600_000_000))
    (root / "link-to-top").symlink_to("top.bin")
    (root / "a" / "dangling").symlink_to("../nowhere")
    os.link(root / "top.bin", root / "hard.bin")


def snapshot(root: Path) -> dict[str, tuple]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        st = path.lstat()
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            out[rel] = ("dir", st.st_mode & 0o777)
        else:
            out[rel] = ("file", st.st_mode & 0o777, int(st.st_mtime), path.read_bytes())
    return out


def test_folder_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    make_tree(source)
    os.mkfifo(source / "a" / "fifo")
    skipped: list[str] = []
    buffer = io.BytesIO()
    write_folder(source, buffer, on_skip=skipped.append)
    assert skipped == ["a/fifo"]
    (source / "a" / "fifo").unlink()
    target = tmp_path / "dst"
    target.mkdir()
    buffer.seek(0)
    extract_stream(buffer, target)
    assert snapshot(target) == snapshot(source)
    assert not (target / "hard.bin").samefile(target / "top.bin")


def _archive(*members: tuple[str, str, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for kind, name, extra in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(extra)
                tar.addfile(info, io.BytesIO(extra.encode()))
            elif kind == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = extra
                tar.addfile(info)
            elif kind == "hard":
                info.type = tarfile.LNKTYPE
                info.linkname = extra
                tar.addfile(info)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    "members",
    [
        [("file", "../evil", "x")],
        [("file", "a/../../evil", "x")],
        [("file", "/etc/evil", "x")],
        [("link", "out", "/etc")],
        [("link", "out", "../..")],
        [("link", "a/out", "../../x")],
        [("link", "ok", "."), ("link", "ok/../../x", "y")],
    ],
)
def test_malicious_archives_are_refused(tmp_path: Path, members: list[tuple[str, str, str]]) -> None:
    target = tmp_path / "dst"
    target.mkdir()
    with pytest.raises(UnsafeArchive):
        extract_stream(_archive(*members), target)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "x").exists()


def test_write_through_an_escaping_link_is_refused(tmp_path: Path) -> None:
    """Even if a link somehow exists already, nothing is written through it."""
    target = tmp_path / "dst"
    target.mkdir()
    (target / "esc").symlink_to(tmp_path)
    with pytest.raises(UnsafeArchive):
        extract_stream(_archive(("file", "esc/evil", "x")), target)
    with pytest.raises(UnsafeArchive):
        extract_stream(_archive(("file", "esc", "x")), target)
    assert not (tmp_path / "evil").exists()


def test_hard_links_and_specials_in_foreign_archives_are_skipped(tmp_path: Path) -> None:
    target = tmp_path / "dst"
    target.mkdir()
    skipped: list[str] = []
    extract_stream(_archive(("file", "f", "data"), ("hard", "h", "/etc/passwd")), target, on_skip=skipped.append)
    assert skipped == ["h"] and sorted(os.listdir(target)) == ["f"]
