"""Keeping the contacts in our identity equal to where our transports really listen.

Peers reach us at the contacts our identity lists, so when a transport's address changes (another
port, another host) the document must follow: same sources and key, next revision, re-signed and
published on every identity server before it is saved here. Nothing changes when the contacts are
already right, which is the common case on every restart.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

from twisted.internet import defer

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.main.errors import Conflict
from bitdust.userid.http_fetch import HttpPost
from bitdust.userid.id_publish import publish_next_revision
from bitdust.userid.id_registrator import identity_date
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.local_identity import LocalIdentity


@defer.inlineCallbacks
def update_contacts(
    *,
    local: LocalIdentity,
    keys: KeyRegistry,
    cache: IdentityCache,
    http_post: HttpPost,
    run_blocking: Callable[..., defer.Deferred[Any]],
    contacts: Sequence[str],
) -> Generator[defer.Deferred[Any], Any, Identity | None]:
    """Fires with the new Identity when it had to change, or None when the contacts were right."""
    current: Identity | None = local.current
    master = keys.master()
    if current is None or master is None:
        raise Conflict("this node has no identity yet: create or recover one first")
    if tuple(current.contacts) == tuple(contacts):
        return None
    updated = yield publish_next_revision(
        current,
        master.key,
        http_post=http_post,
        run_blocking=run_blocking,
        local=local,
        cache=cache,
        contacts=tuple(contacts),
        date=identity_date(),
    )
    return updated
