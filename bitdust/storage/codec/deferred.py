"""Twisted face of the codec pipeline: run upload/download in the reactor's thread pool.

The pipelines are blocking; here they go to ``reactor.getThreadPool()`` so the reactor thread only
routes. Stores that are not ``blocking`` (network suppliers answering with Deferreds) are wrapped
so the worker threads call them on the reactor thread and wait for the answer; progress callbacks
are delivered on the reactor thread too, so callers never see a foreign thread.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.threads import blockingCallFromThread, deferToThreadPool

from bitdust.storage.codec import pipeline
from bitdust.storage.codec.fragment import FragmentId
from bitdust.storage.codec.manifest import Manifest, Progress


class ReactorBridgedStore:
    """A blocking view of a non-blocking store: each call runs on the reactor thread, we wait for it."""

    blocking = True

    def __init__(self, reactor: Any, store: Any) -> None:
        self._reactor = reactor
        self._store = store

    def put(self, fragment_id: FragmentId, blob: bytes) -> Any:
        return blockingCallFromThread(self._reactor, self._store.put, fragment_id, blob)

    def get(self, fragment_id: FragmentId) -> bytes | None:
        return blockingCallFromThread(self._reactor, self._store.get, fragment_id)

    def positions(self, customer: str, path_id: str, version: str, block: int) -> list[int]:
        return blockingCallFromThread(self._reactor, self._store.positions, customer, path_id, version, block)


def _bridged(reactor: Any, store: Any) -> Any:
    return store if getattr(store, "blocking", True) else ReactorBridgedStore(reactor, store)


def _on_reactor(reactor: Any, progress: pipeline.ProgressCallback | None) -> pipeline.ProgressCallback | None:
    if progress is None:
        return None

    def report(event: Progress) -> None:
        reactor.callFromThread(progress, event)

    return report


def upload_deferred(
    reactor: Any, source_path: Any, *, sink: Any, progress: Any = None, **options: Any
) -> Deferred[Manifest]:
    """:func:`pipeline.upload` in the reactor's thread pool; fires with the Manifest."""
    return deferToThreadPool(
        reactor,
        reactor.getThreadPool(),
        pipeline.upload,
        source_path,
        sink=_bridged(reactor, sink),
        progress=_on_reactor(reactor, progress),
        **options,
    )


def download_deferred(
    reactor: Any, manifest: Any, *, source: Any, progress: Any = None, **options: Any
) -> Deferred[pipeline.DownloadResult]:
    """:func:`pipeline.download` in the reactor's thread pool; fires with the DownloadResult."""
    return deferToThreadPool(
        reactor,
        reactor.getThreadPool(),
        pipeline.download,
        manifest,
        source=_bridged(reactor, source),
        progress=_on_reactor(reactor, progress),
        **options,
    )
