"""Per-engine logging: a rotated text log under ``logs/`` with a level taken from the config.

Each engine has its own :class:`~twisted.logger.LogPublisher`, so many engines in one test
process keep separate logs; the process entry point may also route Twisted's global log to it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    LogPublisher,
    textFileLogObserver,
)
from twisted.python.failure import Failure
from twisted.python.logfile import LogFile


def level_for_debug_level(debug_level: int) -> LogLevel:
    """``logs/debug-level`` as the original used it: 0 is quiet, higher numbers say more."""
    if debug_level <= 0:
        return LogLevel.info
    return LogLevel.debug


def rotated_file(path: Path, *, rotate_bytes: int, max_files: int) -> LogFile:
    """Blocking: open ``path`` for appending, rotated every log of the engine the same way.

    Once the file would pass ``rotate_bytes`` (``logs/max-size``) it becomes ``path.1`` (older
    ones shift to ``.2``, ...) and at most ``max_files`` (``logs/max-files``) rotated files stay.
    ``main.log`` and ``event.log`` both open through here, so they cannot drift apart.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    return LogFile(path.name, str(path.parent), rotateLength=rotate_bytes, maxRotatedFiles=max_files)


class EngineLog:
    """Owns the engine's publisher, its rotated log file and the level filter."""

    def __init__(self) -> None:
        self.publisher = LogPublisher()
        self._predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.info)
        self._file: LogFile | None = None
        self._observers: list[ILogObserver] = []

    def open_file(self, folder: Path, *, rotate_bytes: int, max_files: int, name: str = "main.log") -> None:
        self._file = rotated_file(folder / name, rotate_bytes=rotate_bytes, max_files=max_files)
        # LogFile is file-like (write, flush) without being an ``IO`` subclass, as the stubs want.
        self._add(textFileLogObserver(cast("IO[Any]", self._file)))

    def to_stream(self, stream: IO[str] = sys.stdout) -> None:
        """Also print the log to a terminal (``bitdust run`` in the foreground)."""
        self._add(textFileLogObserver(stream))

    def set_debug_level(self, debug_level: int) -> None:
        self._predicate.setLogLevelForNamespace("", level_for_debug_level(debug_level))

    def close(self) -> None:
        for observer in self._observers:
            self.publisher.removeObserver(observer)
        self._observers.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    def _add(self, observer: ILogObserver) -> None:
        filtered = FilteringLogObserver(observer, [self._predicate])
        self._observers.append(filtered)
        self.publisher.addObserver(filtered)


def log_failure(log: Logger, message: str, **fields: object) -> Callable[[Failure], None]:
    """An errback that logs the failure (with its traceback) under ``message`` and ends it there.

    Passing ``log.failure`` itself as the errback reads naturally but hands it the Failure as the
    format and the message as the failure, which logs neither; this is the spelling that works.
    """

    def errback(failure: Failure) -> None:
        log.failure(message, failure, LogLevel.critical, **fields)

    return errback
