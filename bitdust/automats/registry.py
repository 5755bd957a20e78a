"""The registry of live state machines of one engine.

Each Engine owns one registry (never a module-level one), so ``automats_list`` sees exactly the
machines of its own node even when a test runs many nodes in one process. The registry numbers
machines, finds them by index or name, and relays every state change to its listeners.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from twisted.logger import Logger

if TYPE_CHECKING:
    from bitdust.automats.runtime import Automat

Listener = Callable[["Automat", str, str, str], object]

# Set to 1 (the test suite does, for itself and every engine process it starts) to make an
# engine's machines raise on an unexpected event instead of logging and dropping it.
STRICT_ENVIRONMENT = "BITDUST_STRICT_AUTOMATS"


def strict_from_environment(environ: Mapping[str, str] = os.environ) -> bool:
    """The default of an engine's ``strict_automats``: on when ``BITDUST_STRICT_AUTOMATS`` is 1."""
    return environ.get(STRICT_ENVIRONMENT, "") == "1"


class AutomatRegistry:
    """Live machines of one engine, by index; ``strict`` is the default mode of its machines."""

    def __init__(self, *, strict: bool = False, log: Logger | None = None) -> None:
        self.strict = strict
        self.log = log if log is not None else Logger(namespace=__name__)
        self.unknown_events = 0
        self.unexpected_events = 0
        self._automats: dict[int, Automat] = {}
        self._listeners: list[Listener] = []
        self._last_index = 0

    def __len__(self) -> int:
        return len(self._automats)

    def register(self, automat: Automat) -> int:
        """Add ``automat`` and return its index: 1, 2, 3, ... never reused within this registry."""
        index = getattr(automat, "index", 0)
        if self._automats.get(index) is automat:
            return index
        self._last_index += 1
        self._automats[self._last_index] = automat
        return self._last_index

    def unregister(self, automat: Automat) -> None:
        """Forget ``automat`` (found by the index it was given); unknown machines are ignored."""
        index = getattr(automat, "index", 0)
        if self._automats.get(index) is automat:
            del self._automats[index]

    def get(self, index: int) -> Automat | None:
        return self._automats.get(index)

    def list(self) -> builtins.list[Automat]:
        """Live machines ordered by index (the order they were created)."""
        return [self._automats[index] for index in sorted(self._automats)]

    def find(self, name: str) -> builtins.list[Automat]:  # ``list`` here is the method above
        """Live machines of the machine type ``name``, ordered by index."""
        return [automat for automat in self.list() if automat.name == name]

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(automat, old_state, new_state, event)`` on every machine's state change."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def state_changed(self, automat: Automat, old: str, new: str, event: str) -> None:
        """Called by a registered machine; a failing listener is logged and the others still run."""
        for listener in list(self._listeners):
            try:
                listener(automat, old, new, event)
            except Exception:
                self.log.failure("state-change listener {listener!r} failed", listener=listener)

    def destroy_all(self) -> None:
        """Destroy every live machine, newest first: what an engine does when it shuts down."""
        for automat in reversed(self.list()):
            automat.destroy()
