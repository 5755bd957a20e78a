"""The donated space: the customers' allocations, their folders, and every write checked against both limits.

:class:`SupplierSpace` is the narrow interface the services and the API use. It keeps the
:class:`~bitdust.supplier.ledger.Ledger` on the reactor thread and does the disk work (the
customers record, the customers' files) through ``run_blocking``. Changes run one at a time
under a lock, so two writes racing cannot both pass a limit that only one of them fits in.

Layout: ``<root>/<customer global id>/<relative path>``; a customer reaches only its own folder,
and a path that leaves it (``..``, an absolute path, a link) is refused.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from twisted.internet import defer

from bitdust.errors import BitDustError, InvalidInput, NotFound
from bitdust.main.collaborators import RunBlocking
from bitdust.supplier import customers_store
from bitdust.supplier.ledger import CustomerEntry, Ledger
from bitdust.supplier.requests import SupplyRequest

T = TypeVar("T")
MAX_RELATIVE_PATH = 1024


def check_relative_path(relative_path: object) -> PurePosixPath:
    """A path inside a customer's folder, or InvalidInput: no absolute path, no ``..``, no empty part."""
    if not isinstance(relative_path, str) or not 0 < len(relative_path) <= MAX_RELATIVE_PATH:
        raise InvalidInput(f"a path is 1 to {MAX_RELATIVE_PATH} characters")
    if "\x00" in relative_path or "\\" in relative_path:
        raise InvalidInput("a path holds no NUL and no backslash")
    path = PurePosixPath(relative_path)
    if path.is_absolute() or any(part in ("", ".", "..") for part in relative_path.split("/")):
        raise InvalidInput(f"the path {relative_path!r} leaves the customer's folder")
    return path


class SupplierSpace:
    """Allocations and data of this node's customers within ``donated`` bytes; see the module docstring."""

    def __init__(
        self, *, root: Path, record: Path, donated: int, run_blocking: RunBlocking, clock: Callable[[], float]
    ) -> None:
        self.root = root
        self.record = record
        self.ledger = Ledger(donated)
        self.run_blocking = run_blocking
        self.clock = clock
        self._lock = defer.DeferredLock()
        self._touched = False

    # -- the life cycle ----------------------------------------------------------------------

    def open(self) -> defer.Deferred[None]:
        """Load the record and recount each customer's bytes from its folder (blocking work in a thread)."""

        def load() -> dict[str, CustomerEntry]:
            entries = customers_store.load(self.record)
            for entry in entries.values():
                entry.used = customers_store.measure(self.root / entry.global_id)
            return entries

        def loaded(entries: dict[str, CustomerEntry]) -> None:
            self.ledger.entries = entries

        return self.run_blocking(load).addCallback(loaded)

    def set_donated(self, donated: int) -> None:
        """A new donated total applies to later allocations and writes; what is stored stays."""
        self.ledger.donated = donated

    def _locked(self, work: Callable[[], defer.Deferred[T]]) -> defer.Deferred[T]:
        return self._lock.run(work)

    def save(self) -> defer.Deferred[None]:
        entries = {idurl: CustomerEntry(**entry.to_json()) for idurl, entry in self.ledger.entries.items()}
        self._touched = False
        return self.run_blocking(customers_store.save, self.record, entries)

    def save_if_touched(self) -> defer.Deferred[None]:
        return self._locked(lambda: self.save() if self._touched else defer.succeed(None))

    # -- customers ---------------------------------------------------------------------------

    def customers(self) -> list[CustomerEntry]:
        return sorted(self.ledger.entries.values(), key=lambda entry: (entry.since, entry.idurl))

    def get(self, idurl: str) -> CustomerEntry:
        return self.ledger.get(idurl)

    def is_customer(self, idurl: str) -> bool:
        return idurl in self.ledger.entries

    def touch(self, idurl: str) -> None:
        """We heard from ``idurl`` just now (saved with the next change or patrol)."""
        entry = self.ledger.entries.get(idurl)
        if entry is not None:
            entry.last_seen = self.clock()
            self._touched = True

    def allocate(self, request: SupplyRequest) -> defer.Deferred[tuple[CustomerEntry, bool]]:
        """Give the customer ``needed_bytes`` (replacing an allocation it has); fires with (entry, renewed)."""

        def work() -> defer.Deferred[tuple[CustomerEntry, bool]]:
            now = self.clock()
            customer = request.customer
            entry = CustomerEntry(
                idurl=customer.url,
                global_id=customer.global_id,
                allocated=request.needed_bytes,
                since=now,
                last_seen=now,
                ecc_map=request.ecc_map,
                position=request.position,
            )
            old = self.ledger.allocate(entry)

            def undo(failure: Any) -> Any:
                # The record could not be written: the allocation must not exist only in memory.
                if old is None:
                    self.ledger.entries.pop(entry.idurl, None)
                else:
                    self.ledger.entries[entry.idurl] = old
                return failure

            return self.save().addCallbacks(lambda _: (entry, old is not None), undo)

        return self._locked(work)

    def release(self, idurl: str) -> defer.Deferred[CustomerEntry]:
        """Forget the customer and remove its folder; fires with its last entry (NotFound for a stranger)."""

        def work() -> defer.Deferred[CustomerEntry]:
            entry = self.ledger.release(idurl)
            folder = self.root / entry.global_id

            def removed(_: object) -> defer.Deferred[CustomerEntry]:
                return self.save().addCallback(lambda _: entry)

            return self.run_blocking(shutil.rmtree, folder, True).addCallback(removed)

        return self._locked(work)

    # -- a customer's data -------------------------------------------------------------------

    def _file(self, idurl: str, relative_path: str) -> tuple[CustomerEntry, Path]:
        entry = self.ledger.get(idurl)
        return entry, self.root / entry.global_id / check_relative_path(relative_path)

    def _inside(self, entry: CustomerEntry, path: Path) -> Path:
        """Blocking: ``path`` with links resolved, refused when it leads out of the customer's folder."""
        folder = (self.root / entry.global_id).resolve()
        real = path.resolve()
        if real != folder and not real.is_relative_to(folder):
            raise InvalidInput("the path leaves the customer's folder")
        return real

    def write(self, idurl: str, relative_path: str, data: bytes) -> defer.Deferred[int]:
        """Store ``data`` at the path, checked against the customer's allocation and the donated total."""
        try:
            entry, path = self._file(idurl, relative_path)
        except BitDustError:
            return defer.fail()

        def work() -> defer.Deferred[int]:
            def blocking() -> int:
                real = self._inside(entry, path)
                old = real.stat().st_size if real.is_file() else 0
                if real.exists() and not real.is_file():
                    raise InvalidInput(f"{relative_path!r} is a folder")
                self.ledger.check_write(idurl, old, len(data))
                customers_store.write_file(real, data)
                return old

            def written(old: int) -> int:
                self.ledger.apply_write(idurl, old, len(data))
                self._touched = True
                return self.ledger.get(idurl).used

            return self.run_blocking(blocking).addCallback(written)

        return self._locked(work)

    def read(self, idurl: str, relative_path: str) -> defer.Deferred[bytes]:
        try:
            entry, path = self._file(idurl, relative_path)
        except BitDustError:
            return defer.fail()

        def blocking() -> bytes:
            real = self._inside(entry, path)
            if not real.is_file():
                raise NotFound(f"no file {relative_path!r}")
            return real.read_bytes()

        return self.run_blocking(blocking)

    def delete(self, idurl: str, relative_path: str) -> defer.Deferred[int]:
        """Remove one file of the customer; fires with the bytes freed."""
        try:
            entry, path = self._file(idurl, relative_path)
        except BitDustError:
            return defer.fail()

        def work() -> defer.Deferred[int]:
            def blocking() -> int:
                real = self._inside(entry, path)
                if not real.is_file():
                    raise NotFound(f"no file {relative_path!r}")
                size = real.stat().st_size
                real.unlink()
                return size

            def deleted(size: int) -> int:
                self.ledger.apply_delete(idurl, size)
                self._touched = True
                return size

            return self.run_blocking(blocking).addCallback(deleted)

        return self._locked(work)

    def list(self, idurl: str) -> defer.Deferred[list[dict[str, Any]]]:
        """The customer's files: ``[{path, size}]`` relative to its folder."""
        try:
            entry = self.ledger.get(idurl)
        except BitDustError:
            return defer.fail()
        return self.run_blocking(customers_store.list_files, self.root / entry.global_id)
