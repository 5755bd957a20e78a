"""Where fragments go and come from: the sink/source interfaces and a local-disk implementation.

Threading contract: the pipeline runs in worker threads. A store whose ``blocking`` attribute is
true (like :class:`LocalFragmentStore`) is called directly from those threads and must return plain
values, and be safe to call from several threads at once (consecutive blocks are stored in
parallel; their fragments never share a name). A store with ``blocking = False`` (the network suppliers, later) is called on the reactor
thread through ``blockingCallFromThread`` and may return Deferreds; the Twisted wrappers in
:mod:`bitdust.storage.codec.pipeline` do that bridging.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeGuard

from bitdust.main.process.fileutil import atomic_write
from bitdust.storage.codec.fragment import FragmentId, quote_part

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred


class FragmentSink(Protocol):
    """Accepts fragments for storage."""

    blocking: bool

    def put(self, fragment_id: FragmentId, blob: bytes) -> Deferred[None] | None:
        """Store ``blob``; returns None, or a Deferred firing when stored (non-blocking stores)."""


class FragmentSource(Protocol):
    """Gives fragments back."""

    blocking: bool

    def get(self, fragment_id: FragmentId) -> bytes | None | Deferred[bytes | None]:
        """The blob, or None when absent (a Deferred of either for non-blocking stores)."""

    def positions(self, customer: str, path_id: str, version: str, block: int) -> list[int] | Deferred[list[int]]:
        """Positions believed to hold this block, best first (a Deferred of a list if non-blocking)."""


class BlockingFragmentSink(Protocol):
    """A sink the pipeline's worker threads may call directly: ``put`` returns once stored."""

    blocking: bool

    def put(self, fragment_id: FragmentId, blob: bytes) -> None: ...


class BlockingFragmentSource(Protocol):
    """A source the pipeline's worker threads may call directly: plain values, never Deferreds."""

    blocking: bool

    def get(self, fragment_id: FragmentId) -> bytes | None: ...

    def positions(self, customer: str, path_id: str, version: str, block: int) -> list[int]: ...


def is_blocking_sink(sink: FragmentSink) -> TypeGuard[BlockingFragmentSink]:
    """Whether ``sink`` says it may be called from worker threads (a store without the flag may)."""
    return bool(getattr(sink, "blocking", True))


def is_blocking_source(source: FragmentSource) -> TypeGuard[BlockingFragmentSource]:
    """Whether ``source`` says it may be called from worker threads (a store without the flag may)."""
    return bool(getattr(source, "blocking", True))


class LocalFragmentStore:
    """Fragments as files in ``folder``: one file per fragment, written atomically.

    Layout: ``folder/<customer>/<path_id>/<version>/<block>_<position>.bdf`` with each part
    percent-encoded, so listing a block's positions is one directory read.
    """

    blocking = True

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _version_dir(self, customer: str, path_id: str, version: str) -> Path:
        return self.folder / quote_part(customer) / quote_part(path_id) / quote_part(version)

    def path_of(self, fragment_id: FragmentId) -> Path:
        """The file that holds ``fragment_id`` (tests use it to delete or damage fragments)."""
        folder = self._version_dir(fragment_id.customer, fragment_id.path_id, fragment_id.version)
        return folder / f"{fragment_id.block}_{fragment_id.position}.bdf"

    def put(self, fragment_id: FragmentId, blob: bytes) -> None:
        atomic_write(self.path_of(fragment_id), blob, mode=0o600)

    def get(self, fragment_id: FragmentId) -> bytes | None:
        try:
            return self.path_of(fragment_id).read_bytes()
        except FileNotFoundError:
            return None

    def positions(self, customer: str, path_id: str, version: str, block: int) -> list[int]:
        prefix = f"{block}_"
        found = []
        try:
            names = os.listdir(self._version_dir(customer, path_id, version))
        except FileNotFoundError:
            return []
        for name in names:
            if name.startswith(prefix) and name.endswith(".bdf"):
                try:
                    found.append(int(name[len(prefix) : -len(".bdf")]))
                except ValueError:
                    continue
        return sorted(found)

    def delete(self, fragment_id: FragmentId) -> None:
        """Remove a fragment if present."""
        self.path_of(fragment_id).unlink(missing_ok=True)
