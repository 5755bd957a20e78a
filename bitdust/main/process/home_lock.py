"""One engine per home folder: an exclusive lock plus a pid file for humans and the CLI."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from bitdust.main.errors import EngineLocked
from bitdust.main.process.fileutil import atomic_write


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


class HomeLock:
    """Holds ``flock`` on the lock file for the engine's lifetime.

    ``flock`` is released by the kernel when the process dies, so a crashed engine never
    leaves a stale lock behind; the pid file is only information.
    """

    def __init__(self, lock_file: Path, pid_file: Path) -> None:
        self.lock_file = lock_file
        self.pid_file = pid_file
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, retrying for up to ``wait`` seconds (a restarting engine's successor)."""
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    other = read_pid(self.pid_file)
                    who = f" (pid {other})" if other else ""
                    raise EngineLocked(
                        f"another BitDust engine is already running on {self.lock_file.parent.parent}{who}; "
                        "stop it first with `bitdust stop`"
                    ) from None
                time.sleep(0.05)
        self._fd = fd
        atomic_write(self.pid_file, f"{os.getpid()}\n")

    def release(self) -> None:
        if self._fd is None:
            return
        if read_pid(self.pid_file) == os.getpid():
            try:
                self.pid_file.unlink()
            except FileNotFoundError:
                pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
