"""The files of the options: one small text file per option, written atomically, readable by the owner only.

Reading creates a missing file with the option's default, so users find every option with ``ls``.
Files are written from the caller's thread (``Config.set``) and from worker threads (``set_async``,
options registered at run time); a default is created under one lock, and only where no file
exists, so it never replaces a value that was set meanwhile.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from bitdust.main.process.fileutil import atomic_write
from bitdust.main.settings.config_options import Option

FILE_MODE = 0o600  # options may hold credentials (an HTTP proxy password); only the owner reads them

#: What reading an option's file gave: its text, ``None`` (no file: the default was written), or
#: the reason it could not be read. ``(read, write_error)``; ``write_error`` is set when the
#: missing file could not be created.
ReadResult = tuple[str | OSError | UnicodeDecodeError | None, str | None]


class OptionFiles:
    """Blocking reads and writes of option files, one lock for all of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def read_or_create(self, path: Path, option: Option) -> ReadResult:
        """The text of ``path``, or create it with the default; never raises for a bad file."""
        try:
            return path.read_text(encoding="utf-8-sig"), None
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError) as error:
            return error, None
        try:
            with self._lock:
                if not os.path.lexists(path):
                    atomic_write(path, option.type.serialize(option.default) + "\n", mode=FILE_MODE)
        except OSError as error:
            return None, str(error)
        return None, None

    def write(self, path: Path, option: Option, value: Any) -> None:
        """Replace ``path`` with ``value`` in the option's text form; OSError when the disk refuses."""
        with self._lock:
            atomic_write(path, option.type.serialize(value) + "\n", mode=FILE_MODE)
