"""Keeping the contacts in our identity equal to where our transports really listen.

Peers reach us at the contacts our identity lists, so when a transport's address changes (another
port, another host) the document must follow: same sources and key, next revision, re-signed and
published on every identity server before it is saved here. Nothing changes when the contacts are
already right, which is the common case on every restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer

from bitdust.main.errors import Conflict
from bitdust.userid.http_fetch import HttpPost
from bitdust.userid.id_publish import publish
from bitdust.userid.id_registrator import identity_date
from bitdust.userid.identity import Identity


@defer.inlineCallbacks
def update_contacts(
    *,
    local: Any,
    keys: Any,
    cache: Any,
    http_post: HttpPost,
    run_blocking: Callable[..., defer.Deferred[Any]],
    contacts: Sequence[str],
) -> Any:
    """Fires with the new Identity when it had to change, or None when the contacts were right."""
    current: Identity | None = local.current
    master = keys.master()
    if current is None or master is None:
        raise Conflict("this node has no identity yet: create or recover one first")
    if tuple(current.contacts) == tuple(contacts):
        return None
    updated = current.with_changes(contacts=tuple(contacts), revision=current.revision + 1, date=identity_date())
    updated = yield run_blocking(updated.signed, master.key)
    yield publish(http_post, updated)
    yield run_blocking(local.save, updated)
    yield cache.store(updated, verified=True)  # we signed it
    return updated
