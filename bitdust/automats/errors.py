"""Errors of the state machine package.

They are of the shared kinds, so the API layer answers them like any other: a bad machine
source or an unknown event is a programming error (:class:`InternalError`), a missing Graphviz
is a service that cannot work on this host (:class:`Unavailable`).
"""

from __future__ import annotations

from pathlib import Path

from bitdust.errors import InternalError, Unavailable


class AutomatSourceError(InternalError):
    """A machine source under ``automats/`` is malformed.

    The message starts with ``<file>:<line>: `` so an editor or a terminal can jump to it.
    """

    def __init__(self, path: str | Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class UnknownEventError(InternalError):
    """An event the machine's source does not declare: most likely a typo in the caller."""

    def __init__(self, automat: str, event: str, state: str) -> None:
        super().__init__(f"{automat}: unknown event {event!r} in state {state}")
        self.automat = automat
        self.event = event
        self.state = state


class GraphvizMissing(Unavailable):
    """The ``dot`` program is not installed, so a diagram can only be given as DOT text."""

    def __init__(self, binary: str = "dot") -> None:
        super().__init__(
            f"Graphviz {binary!r} program not found: install it with `apt-get install graphviz` "
            "(Debian/Ubuntu) or `brew install graphviz` (macOS), or ask for the diagram with "
            "`--format dot` to get the DOT text instead"
        )


class GraphvizFailed(InternalError):
    """``dot`` ran but did not produce a diagram (bad input, crash or timeout)."""
