"""The node's keys and identity: a part of the node below the engine core.

``attach`` builds a :class:`NodeIdentity` and puts it in the engine's declared ``identity`` slot:
``keys`` (the key registry), ``local_identity`` (our own signed document), ``identity_cache``
(other users' identities), ``known_servers`` (which identity servers get the larger fetch room,
kept current as our identity and the network config change), ``identity_lock`` and
``http_get``/``http_post`` (size-limited HTTP for identity servers). ``NodeEngine`` offers each
of them under the same name (``engine.keys`` ...). ``load`` reads our identity and the cache
from disk during startup, in the worker thread; the key registry is loaded by
``service_keys_registry``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.main.errors import InvalidInput
from bitdust.main.logs import log_failure
from bitdust.main.settings.config import CONFIG_CHANGED_EVENT
from bitdust.main.settings.network_config import NetworkConfig
from bitdust.userid.http_fetch import HttpGet, HttpPost, make_http_get, make_http_post
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.idurl import DEFAULT_PORT
from bitdust.userid.local_identity import LocalIdentity

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine
    from bitdust.userid.id_rotator import Rotation

_T = TypeVar("_T")


class _LazyHttp:
    """Builds the treq clients on first use, so an engine that never fetches pays nothing."""

    def __init__(self, reactor: IReactorTime) -> None:
        self._reactor = reactor
        self._get: HttpGet | None = None
        self._post: HttpPost | None = None

    def get(self, url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        if self._get is None:
            self._get = make_http_get(self._reactor)
        return self._get(url, timeout)

    def post(self, url: str, body: bytes, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        if self._post is None:
            self._post = make_http_post(self._reactor)
        return self._post(url, body, timeout)


@attrs.frozen
class NodeIdentity:
    """What the identity part holds: one object per engine, in ``NodeEngine.identity``."""

    keys: KeyRegistry
    local_identity: LocalIdentity
    identity_cache: IdentityCache
    known_servers: KnownServers
    #: rotation and contact updates both publish a next revision: one at a time
    identity_lock: defer.DeferredLock
    http_get: HttpGet
    http_post: HttpPost


class IdentityPart:
    def attach(self, engine: NodeEngine) -> None:
        http = _LazyHttp(engine.reactor)
        local = LocalIdentity(engine.paths.metadata / "localidentity", log=engine.logger("bitdust.identity"))
        cache = IdentityCache(
            engine.paths.sub("identitycache"),
            http_get=http.get,
            clock=engine.reactor,
            run_blocking=engine.run_blocking,
            log=engine.logger("bitdust.identity"),
        )
        known = KnownServers(engine, local=local, cache=cache)
        engine.identity = NodeIdentity(
            keys=KeyRegistry(engine.paths.sub("keys"), log=engine.logger("bitdust.keys")),
            local_identity=local,
            identity_cache=cache,
            known_servers=known,
            identity_lock=defer.DeferredLock(),
            http_get=http.get,
            http_post=http.post,
        )
        engine.events.subscribe(known.on_event)

    def load(self, engine: NodeEngine) -> None:
        engine.local_identity.load()
        engine.identity_cache.load()
        engine.known_servers.load()


#: events after which our own identity's sources may differ (sent once ``local_identity`` is updated)
OWN_IDENTITY_EVENTS = ("local-identity-set", "local-identity-modified", "my-identity-rotated", "local-identity-erased")
NETWORK_CONFIG_OPTION = "services/network/network-config"


class NetworkConfigReader(Protocol):
    """What :class:`KnownServers` asks of the engine, at each use (a test may swap ``run_blocking``)."""

    log: Logger

    def network_config(self) -> NetworkConfig:
        """Blocking: read the network config file."""

    def run_blocking(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> defer.Deferred[_T]:
        """Run ``fn`` in a worker thread."""


class KnownServers:
    """Keeps ``identity_cache.limits.known_servers`` equal to what the node trusts to answer now.

    Known servers get more fetch room than servers a peer named (see ``fetch_limits``). Read only
    at startup, the list went stale: an identity created or rotated later, or another network
    config chosen later, counted as strangers' servers until a restart. So the list follows the
    events that change its two inputs: our identity's sources (read from memory at once) and the
    network config's identity servers (the file is read in a worker thread; when reads overlap,
    only the one asked for last is applied, so a slow older read cannot undo a newer one).
    """

    def __init__(self, engine: NetworkConfigReader, *, local: LocalIdentity, cache: IdentityCache) -> None:
        self._engine = engine
        self._local = local
        self._cache = cache
        self._network: frozenset[str] = frozenset()
        self._reads = 0

    @property
    def servers(self) -> frozenset[str]:
        """The network config's identity servers and our own sources, as ``IdUrl.server`` strings."""
        servers = set(self._network)
        me = self._local.current
        if me is not None:
            servers.update(source.server for source in me.sources)
        return frozenset(servers)

    def load(self) -> None:
        """Blocking, at startup before the cache is shared: read the network config and apply."""
        self._network, problem = self._read_network()
        if problem:
            self._engine.log.warn("no known identity servers in the network config: {error}", error=problem)
        self.apply()

    def apply(self) -> None:
        self._cache.limits.set_known_servers(self.servers)

    def on_event(self, event: dict[str, Any]) -> None:
        event_id = event.get("id")
        if event_id in OWN_IDENTITY_EVENTS:
            self.apply()
        elif event_id == CONFIG_CHANGED_EVENT and (event.get("data") or {}).get("key") == NETWORK_CONFIG_OPTION:
            self.reload_network()

    def reload_network(self) -> defer.Deferred[None]:
        """Read the network config again (in a worker thread) and apply it, unless a later read was asked for."""
        self._reads += 1
        read = self._reads

        def read_done(result: tuple[frozenset[str], str]) -> None:
            network, problem = result
            if problem:
                self._engine.log.warn("no known identity servers in the network config: {error}", error=problem)
            if read == self._reads:
                self._network = network
                self.apply()

        done = self._engine.run_blocking(self._read_network).addCallback(read_done)
        done.addErrback(log_failure(self._engine.log, "re-reading the known identity servers failed"))
        return done

    def _read_network(self) -> tuple[frozenset[str], str]:
        """Blocking: the network config's identity servers, and why there are none when it cannot be read."""
        try:
            network = self._engine.network_config()
        except (InvalidInput, OSError) as exc:
            return frozenset(), str(exc)
        servers = frozenset(
            server.host if server.http_port == DEFAULT_PORT else f"{server.host}:{server.http_port}"
            for server in network.identity_servers
        )
        return servers, ""


def sync_key_owner(local: LocalIdentity, keys: KeyRegistry) -> None:
    """Tell ``keys`` who this node is, from ``local`` (after start, creation, recovery, rotation, erase)."""
    identity = local.current
    if identity is None:
        keys.set_owner(None, None)
    else:
        keys.set_owner(identity.global_id, identity.idurl.url)


def rotate_identity(engine: NodeEngine, *, force: bool) -> defer.Deferred[Rotation]:
    """Run a rotation with this engine's collaborators; fires with a ``Rotation``.

    ``force``: the API call (always move); otherwise only when a source is unhealthy.
    """
    from bitdust.userid.id_rotator import rotate

    def run(network: NetworkConfig) -> defer.Deferred[Rotation]:
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

    def rotated(rotation: Rotation) -> Rotation:
        if rotation.rotated:
            sync_key_owner(engine.local_identity, engine.keys)
            engine.events.send(
                "my-identity-rotated",
                {
                    "old_sources": list(rotation.old_sources),
                    "new_sources": [s.url for s in rotation.identity.sources],
                    "revision": rotation.identity.revision,
                },
            )
        return rotation

    def locked() -> defer.Deferred[Rotation]:
        return engine.run_blocking(engine.network_config).addCallback(run).addCallback(rotated)

    return engine.identity_lock.run(locked)
