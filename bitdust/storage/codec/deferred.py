"""Twisted face of the codec pipeline: run upload/download in the reactor's thread pool.

The pipelines are blocking; here they go to ``reactor.getThreadPool()`` so the reactor thread only
routes. Stores that are not ``blocking`` (network suppliers answering with Deferreds) are wrapped
so the worker threads call them on the reactor thread and wait for the answer; progress callbacks
are delivered on the reactor thread too, so callers never see a foreign thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads, IReactorThreads
from twisted.internet.threads import blockingCallFromThread, deferToThreadPool

from bitdust.storage.codec import pipeline
from bitdust.storage.codec.fragment import FragmentId
from bitdust.storage.codec.manifest import Manifest, Progress
from bitdust.storage.codec.store import (
    BlockingFragmentSink,
    BlockingFragmentSource,
    FragmentSink,
    FragmentSource,
    is_blocking_sink,
    is_blocking_source,
)

_T = TypeVar("_T")


def _wait_on_reactor(reactor: IReactorFromThreads, call: Callable[[], Deferred[_T] | _T]) -> _T:
    """From a worker thread: run ``call`` on the reactor thread and wait for its value.

    ``blockingCallFromThread`` waits for a Deferred's result, but its stub cannot infer that result
    for a function that returns either a Deferred or a plain value, hence the one cast.
    """
    return blockingCallFromThread(reactor, cast(Callable[[], _T], call))


class ReactorBridgedSink:
    """A blocking view of a non-blocking sink: each put runs on the reactor thread, we wait for it."""

    blocking = True

    def __init__(self, reactor: IReactorFromThreads, sink: FragmentSink) -> None:
        self._reactor = reactor
        self._sink = sink

    def put(self, fragment_id: FragmentId, blob: bytes) -> None:
        _wait_on_reactor(self._reactor, lambda: self._sink.put(fragment_id, blob))


class ReactorBridgedSource:
    """A blocking view of a non-blocking source: each call runs on the reactor thread, we wait for it."""

    blocking = True

    def __init__(self, reactor: IReactorFromThreads, source: FragmentSource) -> None:
        self._reactor = reactor
        self._source = source

    def get(self, fragment_id: FragmentId) -> bytes | None:
        return _wait_on_reactor(self._reactor, lambda: self._source.get(fragment_id))

    def positions(self, customer: str, path_id: str, version: str, block: int) -> list[int]:
        return _wait_on_reactor(self._reactor, lambda: self._source.positions(customer, path_id, version, block))


def _bridged_sink(reactor: IReactorFromThreads, sink: FragmentSink) -> BlockingFragmentSink:
    return sink if is_blocking_sink(sink) else ReactorBridgedSink(reactor, sink)


def _bridged_source(reactor: IReactorFromThreads, source: FragmentSource) -> BlockingFragmentSource:
    return source if is_blocking_source(source) else ReactorBridgedSource(reactor, source)


def _on_reactor(
    reactor: IReactorFromThreads, progress: pipeline.ProgressCallback | None
) -> pipeline.ProgressCallback | None:
    if progress is None:
        return None

    def report(event: Progress) -> None:
        reactor.callFromThread(progress, event)

    return report


def upload_deferred(
    reactor: IReactorThreads,
    source_path: str | os.PathLike[str],
    *,
    sink: FragmentSink,
    progress: pipeline.ProgressCallback | None = None,
    **options: Any,
) -> Deferred[Manifest]:
    """:func:`pipeline.upload` in the reactor's thread pool; fires with the Manifest."""
    return deferToThreadPool(
        reactor,
        reactor.getThreadPool(),
        pipeline.upload,
        source_path,
        sink=_bridged_sink(reactor, sink),
        progress=_on_reactor(reactor, progress),
        **options,
    )


def download_deferred(
    reactor: IReactorThreads,
    manifest: Manifest | str | dict[str, Any],
    *,
    source: FragmentSource,
    progress: pipeline.ProgressCallback | None = None,
    **options: Any,
) -> Deferred[pipeline.DownloadResult]:
    """:func:`pipeline.download` in the reactor's thread pool; fires with the DownloadResult."""
    return deferToThreadPool(
        reactor,
        reactor.getThreadPool(),
        pipeline.download,
        manifest,
        source=_bridged_source(reactor, source),
        progress=_on_reactor(reactor, progress),
        **options,
    )
