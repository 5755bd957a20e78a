"""Wires the node's keys and identity into the engine (they live below the engine core).

``attach`` puts on the engine: ``keys`` (the key registry), ``local_identity`` (our own signed
document), ``identity_cache`` (other users' identities) and ``http_get``/``http_post`` (size-limited
HTTP for identity servers). ``load`` reads our identity and the cache from disk during startup,
in the worker thread; the key registry is loaded by ``service_keys_registry``.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.main.errors import BadRequest
from bitdust.userid.http_fetch import make_http_get, make_http_post
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.idurl import DEFAULT_PORT
from bitdust.userid.local_identity import LocalIdentity


class _LazyHttp:
    """Builds the treq clients on first use, so an engine that never fetches pays nothing."""

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor
        self._get: Any = None
        self._post: Any = None

    def get(self, url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        if self._get is None:
            self._get = make_http_get(self._reactor)
        return self._get(url, timeout)

    def post(self, url: str, body: bytes, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        if self._post is None:
            self._post = make_http_post(self._reactor)
        return self._post(url, body, timeout)


class IdentityPart:
    def attach(self, engine: Any) -> None:
        http = _LazyHttp(engine.reactor)
        engine.http_get = http.get
        engine.http_post = http.post
        # Rotation and contact updates both publish a next revision: one at a time.
        engine.identity_lock = defer.DeferredLock()
        engine.keys = KeyRegistry(engine.paths.sub("keys"), log=engine.logger("bitdust.keys"))
        engine.local_identity = LocalIdentity(
            engine.paths.metadata / "localidentity", log=engine.logger("bitdust.identity")
        )
        engine.identity_cache = IdentityCache(
            engine.paths.sub("identitycache"),
            http_get=http.get,
            clock=engine.reactor,
            run_blocking=engine.run_blocking,
            log=engine.logger("bitdust.identity"),
        )

    def load(self, engine: Any) -> None:
        engine.local_identity.load()
        engine.identity_cache.load()
        engine.identity_cache.limits.known_servers = known_identity_servers(engine)


def known_identity_servers(engine: Any) -> set[str]:
    """Blocking: the identity servers we trust to answer (network config and our own sources), as ``IdUrl.server``.

    Fetches from them get more room than fetches from servers a peer named (see ``fetch_limits``).
    """
    servers: set[str] = set()
    try:
        network = engine.network_config()
    except (BadRequest, OSError) as exc:
        engine.log.warn("no known identity servers: {error}", error=str(exc))
    else:
        for server in network.identity_servers:
            servers.add(server.host if server.http_port == DEFAULT_PORT else f"{server.host}:{server.http_port}")
    me = engine.local_identity.current
    if me is not None:
        servers.update(source.server for source in me.sources)
    return servers


def sync_key_owner(engine: Any) -> None:
    """Tell the key registry who this node is (after start, creation, recovery, rotation, erase)."""
    identity = engine.local_identity.current
    if identity is None:
        engine.keys.set_owner(None, None)
    else:
        engine.keys.set_owner(identity.global_id, identity.idurl.url)


def rotate_identity(engine: Any, *, force: bool) -> defer.Deferred[Any]:
    """Run a rotation with this engine's collaborators; fires with a ``Rotation``.

    ``force``: the API call (always move); otherwise only when a source is unhealthy.
    """
    from bitdust.userid.id_rotator import rotate

    def run(network: Any) -> defer.Deferred[Any]:
        return rotate(
            local=engine.local_identity,
            keys=engine.keys,
            cache=engine.identity_cache,
            servers=list(network.identity_servers),
            http_get=engine.http_get,
            http_post=engine.http_post,
            run_blocking=engine.run_blocking,
            min_servers=engine.config.get("services/identity-propagate/min-servers"),
            force=force,
        )

    def rotated(rotation: Any) -> Any:
        if rotation.rotated:
            sync_key_owner(engine)
            engine.events.send(
                "my-identity-rotated",
                {
                    "old_sources": list(rotation.old_sources),
                    "new_sources": [s.url for s in rotation.identity.sources],
                    "revision": rotation.identity.revision,
                },
            )
        return rotation

    def locked() -> defer.Deferred[Any]:
        return engine.run_blocking(engine.network_config).addCallback(run).addCallback(rotated)

    return engine.identity_lock.run(locked)
