"""Moving our identity to other identity servers (``identity_rotate``).

Identity servers can die or turn hostile. Rotation republishes the same key under a new set of
sources: healthy current servers are kept, broken ones are replaced by servers from the network
config, the revision goes up, and peers accept the new document because the same key signed it.
A forced rotation (the API call) moves the primary source to another server even when all are
healthy, as the seed describes.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

import attrs
from twisted.internet import defer

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.main.errors import Conflict, Unavailable
from bitdust.main.settings.network_config import IdServerAddress
from bitdust.userid.errors import IdentityError
from bitdust.userid.http_fetch import HttpGet, HttpPost
from bitdust.userid.id_publish import publish_next_revision
from bitdust.userid.id_registrator import identity_date
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.idurl import IdUrl
from bitdust.userid.local_identity import LocalIdentity

PROBE_TIMEOUT = 5.0

# What a probe of one server says about our name there.
OURS, FREE, TAKEN, DOWN = "ours", "free", "taken", "down"


@attrs.frozen
class Rotation:
    identity: Identity
    old_sources: tuple[str, ...]
    rotated: bool
    probes: dict[str, str]


def probe(http_get: HttpGet, idurl: IdUrl, public_key: str) -> defer.Deferred[str]:
    """Ask one server for our document: is it there (ours), absent (free), someone else's, or down?"""

    def answered(response: tuple[int, bytes]) -> str:
        status, body = response
        if status == 404:
            return FREE
        if status != 200:
            return DOWN
        try:
            document = Identity.from_xml(body)
        except IdentityError:
            return DOWN
        return OURS if document.public_key == public_key else TAKEN

    d = http_get(idurl.url, PROBE_TIMEOUT)
    return d.addCallbacks(answered, lambda _f: DOWN)


def choose_sources(
    current: Sequence[IdUrl], candidates: Sequence[IdUrl], probes: dict[str, str], *, count: int, force: bool
) -> list[IdUrl]:
    """The new source list: usable servers only, at most ``count``.

    Forced (the API call): a server not used before becomes the primary; with none available,
    dropping the unhealthy sources is the rotation, and with nothing unhealthy either it is a 409.
    """
    usable = {OURS, FREE}
    healthy_current = [s for s in current if probes.get(s.server) in usable]
    fresh = [c for c in candidates if probes.get(c.server) in usable and c.server not in {s.server for s in current}]
    if force and fresh:
        chosen = [fresh[0]] + healthy_current + fresh[1:]
    elif force and len(healthy_current) == len(current):
        raise Conflict("no other healthy identity server is available to rotate to")
    else:
        chosen = healthy_current + fresh
    return chosen[: max(count, 1)]


@defer.inlineCallbacks
def rotate(
    *,
    local: LocalIdentity,
    keys: KeyRegistry,
    cache: IdentityCache,
    servers: Sequence[IdServerAddress],
    http_get: HttpGet,
    http_post: HttpPost,
    run_blocking: Callable[..., defer.Deferred[Any]],
    min_servers: int,
    force: bool,
) -> Generator[defer.Deferred[Any], Any, Rotation]:
    """Republish our identity on healthy servers; fires with a :class:`Rotation`."""
    current = local.current
    master = keys.master()
    if current is None or master is None:
        raise Conflict("this node has no identity yet: create or recover one first")
    name = current.name
    candidates = [IdUrl(host=s.host, port=s.http_port, name=name) for s in servers]
    everyone = {s.server: s for s in list(current.sources) + candidates}
    results = yield defer.gatherResults([probe(http_get, idurl, current.public_key) for idurl in everyone.values()])
    probes = dict(zip(everyone, results, strict=True))
    unhealthy = [s for s in current.sources if probes[s.server] not in (OURS, FREE)]
    old_sources = tuple(s.url for s in current.sources)
    if not force and not unhealthy:
        return Rotation(identity=current, old_sources=old_sources, rotated=False, probes=probes)
    chosen = choose_sources(
        current.sources, candidates, probes, count=max(min_servers, len(current.sources)), force=force
    )
    if not chosen:
        raise Unavailable(
            "no healthy identity server is available: " + ", ".join(f"{k} {v}" for k, v in probes.items())
        )

    def new_owner(updated: Identity) -> None:
        if updated.global_id != current.global_id:
            keys.install_master(master.key, updated.global_id, updated.idurl.url)

    updated = yield publish_next_revision(
        current,
        master.key,
        http_post=http_post,
        run_blocking=run_blocking,
        local=local,
        cache=cache,
        before_save=new_owner,
        sources=tuple(chosen),
        date=identity_date(),
    )
    return Rotation(identity=updated, old_sources=old_sources, rotated=True, probes=probes)
