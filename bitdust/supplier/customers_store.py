"""The customers record on disk: one JSON file replaced atomically, so a crash keeps the old or the new.

Blocking functions: the service calls them through ``Engine.run_blocking``. The file holds every
customer's entry (who, allocated bytes, since when, used bytes, last seen). ``used`` is a cache
of what the customer's folder holds: :func:`measure` recounts it from the disk at start, so a
crash between a data write and the next save of this file never lets the figures drift.
"""

from __future__ import annotations

import os
from pathlib import Path

from bitdust.errors import InternalError, InvalidInput
from bitdust.main import strict_json
from bitdust.main.process.fileutil import atomic_write
from bitdust.supplier.ledger import CustomerEntry

FORMAT = 1


def save(path: Path, entries: dict[str, CustomerEntry]) -> None:
    document = {"format": FORMAT, "customers": [entries[idurl].to_json() for idurl in sorted(entries)]}
    atomic_write(path, strict_json.dumps(document, canonical=True), mode=0o600)


def load(path: Path) -> dict[str, CustomerEntry]:
    """The saved entries (none when the file does not exist); InternalError when it is unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        document = strict_json.loads(raw)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise InvalidInput(f"not a customers record of format {FORMAT}")
        rows = document.get("customers")
        if not isinstance(rows, list):
            raise InvalidInput("'customers' is not a list")
        entries = [CustomerEntry.from_json(row) for row in rows]
    except (strict_json.NotStrictJson, UnicodeDecodeError, InvalidInput) as exc:
        raise InternalError(f"the customers record {path} is unreadable: {exc}") from None
    return {entry.idurl: entry for entry in entries}


def measure(folder: Path) -> int:
    """Bytes held by the regular files under ``folder`` (0 when it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except FileNotFoundError:
                continue
    return total


def write_file(path: Path, data: bytes) -> None:
    """A customer's file, replaced atomically (its folders made as needed)."""
    atomic_write(path, data, mode=0o600)


def list_files(folder: Path) -> list[dict[str, object]]:
    """``[{path, size}]`` of the regular files under ``folder``, sorted by path."""
    found: list[dict[str, object]] = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if name.startswith(".") and name.endswith(".tmp"):
                continue  # an atomic write under way or cut short by a crash
            path = Path(root) / name
            try:
                size = path.lstat().st_size
            except FileNotFoundError:
                continue
            found.append({"path": path.relative_to(folder).as_posix(), "size": size})
    return sorted(found, key=lambda row: str(row["path"]))
