"""Which stores the pipeline's worker threads may call directly: the ``blocking`` flag, read the same way everywhere."""

from __future__ import annotations

from twisted.internet import defer

from bitdust.storage.codec.fragment import FragmentId
from bitdust.storage.codec.store import LocalFragmentStore, is_blocking_sink, is_blocking_source


class _Remote:
    """A store answering with Deferreds, as network suppliers will."""

    blocking = False

    def put(self, fragment_id: FragmentId, blob: bytes) -> defer.Deferred[None]:
        return defer.succeed(None)

    def get(self, fragment_id: FragmentId) -> defer.Deferred[bytes | None]:
        return defer.succeed(None)

    def positions(self, customer: str, path_id: str, version: str, block: int) -> defer.Deferred[list[int]]:
        return defer.succeed([])


class _Unflagged:
    """A store that says nothing: called directly, as the pipeline always did."""

    def put(self, fragment_id: FragmentId, blob: bytes) -> None:
        return None

    def get(self, fragment_id: FragmentId) -> bytes | None:
        return None

    def positions(self, customer: str, path_id: str, version: str, block: int) -> list[int]:
        return []


def test_a_local_store_is_blocking_for_both_directions(tmp_path) -> None:
    store = LocalFragmentStore(tmp_path)
    assert is_blocking_sink(store) and is_blocking_source(store)


def test_a_store_answering_with_deferreds_is_not() -> None:
    store = _Remote()
    assert not is_blocking_sink(store) and not is_blocking_source(store)


def test_a_store_without_the_flag_counts_as_blocking() -> None:
    store = _Unflagged()
    assert is_blocking_sink(store) and is_blocking_source(store)
