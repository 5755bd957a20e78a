"""Watching config keys: who wants to hear about a change of which keys, and how to stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

#: ``callback(key, new_value, old_value)`` with Python values.
Watcher = Callable[[str, Any, Any], None]


@attrs.define(eq=False)
class WatchHandle:
    """Returned by :meth:`Config.watch`; ``cancel()`` stops the callbacks (calling it twice is fine)."""

    prefix: str
    callback: Watcher
    _registry: list[WatchHandle] = attrs.field(repr=False)

    def matches(self, key: str) -> bool:
        return not self.prefix or key == self.prefix or key.startswith(self.prefix + "/")

    def cancel(self) -> None:
        if self in self._registry:
            self._registry.remove(self)
