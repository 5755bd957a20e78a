"""Constants and builders shared by the key registry tests."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from twisted.logger import Logger

from bitdust.crypt.key_registry import KeyRegistry

OWNER = "alice@host.com"
IDURL = "http://host.com/alice.xml"
MASTER_ID = f"master${OWNER}"
NOW = 1_700_000_000


def make_registry(folder: Path, events: list[dict[str, Any]] | None = None) -> KeyRegistry:
    """A registry on ``folder`` with a fixed clock, logging into ``events`` when given."""
    log = Logger(observer=events.append) if events is not None else None  # type: ignore[arg-type]
    return KeyRegistry(folder, log=log, now=lambda: NOW + 0.5)


def files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
