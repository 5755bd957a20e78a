from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from bitdust.main.errors import EngineLocked
from bitdust.main.process.api_secret import ensure_secret, read_secret
from bitdust.main.process.fileutil import atomic_write
from bitdust.main.process.home_lock import HomeLock, read_pid
from bitdust.main.process.paths import HomePaths, default_home


def test_lock_writes_and_removes_pid_file(tmp_path) -> None:
    paths = HomePaths(tmp_path)
    lock = HomeLock(paths.lock_file, paths.pid_file)
    lock.acquire()
    assert read_pid(paths.pid_file) == os.getpid()
    lock.release()
    assert not paths.pid_file.exists()
    assert not lock.held


def test_second_lock_in_another_process_is_refused(tmp_path) -> None:
    paths = HomePaths(tmp_path)
    lock = HomeLock(paths.lock_file, paths.pid_file)
    lock.acquire()
    try:
        code = (
            "import sys; from pathlib import Path\n"
            "from bitdust.main.process.home_lock import HomeLock\n"
            "from bitdust.main.errors import EngineLocked\n"
            f"l = HomeLock(Path({str(paths.lock_file)!r}), Path({str(paths.pid_file)!r}))\n"
            "try:\n    l.acquire()\nexcept EngineLocked as e:\n    print(e); sys.exit(7)\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode == 7
        assert "already running" in result.stdout
        assert f"pid {os.getpid()}" in result.stdout
    finally:
        lock.release()


def test_lock_of_same_process_twice_is_refused_too(tmp_path) -> None:
    paths = HomePaths(tmp_path)
    first = HomeLock(paths.lock_file, paths.pid_file)
    first.acquire()
    second = HomeLock(paths.lock_file, paths.pid_file)
    with pytest.raises(EngineLocked):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_secret_created_private_and_stable(tmp_path) -> None:
    path = tmp_path / "metadata" / "apisecret"
    secret = ensure_secret(path)
    assert len(secret) >= 43  # 32 bytes of base64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secret(path) == secret
    assert read_secret(path) == secret
    path.write_text("")
    assert ensure_secret(path) != secret


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path) -> None:
    target = tmp_path / "a" / "b.txt"
    atomic_write(target, "one")
    atomic_write(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["b.txt"]


def test_default_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("BITDUST_HOME", str(tmp_path / "env"))
    assert default_home(tmp_path / "arg") == tmp_path / "arg"
    assert default_home() == tmp_path / "env"
    monkeypatch.delenv("BITDUST_HOME")
    assert default_home().name == ".bitdust"
