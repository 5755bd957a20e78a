"""The accounting of donated space: who holds how much, and the two limits no write may pass.

Pure and in memory (the :class:`~bitdust.supplier.space.SupplierSpace` persists it and does the
disk work): every change is checked here first, so the invariants hold by construction, not by
the callers' care: the bytes allocated to all customers never exceed the donated total, and the
bytes a customer uses never exceed its allocation.
"""

from __future__ import annotations

from typing import Any

import attrs

from bitdust.errors import InvalidInput, LimitReached, NotFound, OutOfSpace


@attrs.define
class CustomerEntry:
    """One customer: what it was given, since when, what it uses, when we last heard from it."""

    idurl: str
    global_id: str
    allocated: int
    since: float
    used: int = 0
    last_seen: float = 0.0
    ecc_map: str = ""
    position: int = 0

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: object) -> CustomerEntry:
        if not isinstance(data, dict):
            raise InvalidInput("a customer entry is a JSON object")
        try:
            entry = cls(**data)
        except TypeError as exc:
            raise InvalidInput(f"bad customer entry: {exc}") from None
        numbers = (entry.allocated, entry.used, entry.position)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise InvalidInput("bad customer entry: sizes and position are whole numbers")
        if not isinstance(entry.idurl, str) or not isinstance(entry.global_id, str):
            raise InvalidInput("bad customer entry: idurl and global_id are text")
        return entry


class Ledger:
    """Allocations and usage per customer IDURL, within ``donated`` bytes."""

    def __init__(self, donated: int, entries: dict[str, CustomerEntry] | None = None) -> None:
        self.donated = donated
        self.entries: dict[str, CustomerEntry] = dict(entries or {})

    @property
    def allocated(self) -> int:
        return sum(entry.allocated for entry in self.entries.values())

    @property
    def used(self) -> int:
        return sum(entry.used for entry in self.entries.values())

    def free_for(self, idurl: str) -> int:
        """What ``idurl`` could be allocated in all: the unallocated space plus what it holds now."""
        held = self.entries[idurl].allocated if idurl in self.entries else 0
        return self.donated - self.allocated + held

    def get(self, idurl: str) -> CustomerEntry:
        try:
            return self.entries[idurl]
        except KeyError:
            raise NotFound(f"{idurl} is not a customer of this node") from None

    def check_allocation(self, idurl: str, needed: int) -> None:
        """OutOfSpace with the figures when ``needed`` bytes cannot be (re)allocated to ``idurl``."""
        if needed <= 0:
            raise InvalidInput(f"needed bytes must be more than 0, got {needed}")
        free = self.free_for(idurl)
        if needed > free:
            raise OutOfSpace(f"not enough space: {free} bytes free, {needed} needed")
        entry = self.entries.get(idurl)
        if entry is not None and entry.used > needed:
            raise OutOfSpace(f"the customer already stores {entry.used} bytes, more than the {needed} asked for")

    def allocate(self, entry: CustomerEntry) -> CustomerEntry | None:
        """Give ``entry.allocated`` bytes to ``entry.idurl`` (replacing its allocation); the old entry or None."""
        self.check_allocation(entry.idurl, entry.allocated)
        old = self.entries.get(entry.idurl)
        if old is not None:
            entry.used, entry.since = old.used, old.since
        self.entries[entry.idurl] = entry
        return old

    def release(self, idurl: str) -> CustomerEntry:
        entry = self.get(idurl)
        del self.entries[idurl]
        return entry

    def check_write(self, idurl: str, old_size: int, new_size: int) -> None:
        """Refuse a write replacing ``old_size`` bytes by ``new_size`` that would pass a limit."""
        entry = self.get(idurl)
        after = entry.used - old_size + new_size
        if after > entry.allocated:
            raise LimitReached(f"the write needs {after} bytes, over the {entry.allocated} allocated to the customer")
        total = self.used - old_size + new_size
        if total > self.donated:
            raise OutOfSpace(f"the write needs {total} bytes in all, over the {self.donated} donated")

    def apply_write(self, idurl: str, old_size: int, new_size: int) -> None:
        self.check_write(idurl, old_size, new_size)
        self.entries[idurl].used += new_size - old_size

    def apply_delete(self, idurl: str, size: int) -> None:
        entry = self.get(idurl)
        entry.used = max(0, entry.used - size)

    def idle(self, now: float, max_idle: float) -> list[CustomerEntry]:
        """Customers not heard from for more than ``max_idle`` seconds, oldest first."""
        stale = [e for e in self.entries.values() if now - max(e.last_seen, e.since) > max_idle]
        return sorted(stale, key=lambda e: max(e.last_seen, e.since))
