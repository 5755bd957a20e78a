"""The Engine of a real node: the core plus a declared, typed slot for each of its parts.

The core (:class:`bitdust.main.engine.Engine`) sits at the top of the layer order and cannot name
the key registry, the identity cache, the gateway or the catalog, which live below it. This
class sits at the bottom, where it may: it declares one slot per part, None while the part is
absent (a test may build an engine without it) and filled by the part's ``attach`` or by the
service that owns it, never invented at run time (``Engine.__setattr__`` refuses undeclared
names). ``create_engine`` in :mod:`bitdust.node.composition` builds it; the services and the
API methods that need a part take a ``NodeEngine``.

The names the rest of the code has always used (``engine.keys``, ``engine.local_identity``,
``engine.p2p`` ...) are read-only properties over those slots: typed, never None, and an
``AttributeError`` naming the missing part when the engine was built without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from bitdust.main.engine import Engine

if TYPE_CHECKING:
    from twisted.internet import defer

    from bitdust.crypt.key_registry import KeyRegistry
    from bitdust.customer.fire_hire import FireHire
    from bitdust.services.identity_part import KnownServers, NodeIdentity
    from bitdust.services.network_part import P2PHub
    from bitdust.storage.catalog import Catalog
    from bitdust.supplier.space import SupplierSpace
    from bitdust.userid.http_fetch import HttpGet, HttpPost
    from bitdust.userid.identity_cache import IdentityCache
    from bitdust.userid.local_identity import LocalIdentity


class MissingPart(AttributeError):
    """The engine was composed without the part that holds what was asked for."""


def _missing(part: str, name: str) -> NoReturn:
    raise MissingPart(f"this engine was built without its {part} part, so it has no {name!r}")


class NodeEngine(Engine):
    """An Engine whose parts are declared slots; see the module docstring."""

    # Class-level None: each slot reads None from the start, before the core's constructor runs
    # the parts' ``attach``, and for an engine composed without the part.

    #: ``IdentityPart``: our keys, our identity, others' identities, identity HTTP
    identity: NodeIdentity | None = None
    #: ``P2PPart``: the network pieces the network services fill in as they start
    network: P2PHub | None = None
    #: ``service_backup_db``: the catalog of remote paths while the service is ON
    catalog: Catalog | None = None
    #: ``service_supplier``: the donated space and this node's customers while the service is ON
    supplier: SupplierSpace | None = None
    #: ``service_customer``: the fire_hire machine keeping our family of suppliers while the service is ON
    fire_hire: FireHire | None = None

    # -- the identity part, under the names the code uses -------------------------------------

    def _identity(self, name: str) -> NodeIdentity:
        if self.identity is None:
            _missing("identity", name)
        return self.identity

    @property
    def keys(self) -> KeyRegistry:
        return self._identity("keys").keys

    @property
    def local_identity(self) -> LocalIdentity:
        return self._identity("local_identity").local_identity

    @property
    def identity_cache(self) -> IdentityCache:
        return self._identity("identity_cache").identity_cache

    @property
    def known_servers(self) -> KnownServers:
        return self._identity("known_servers").known_servers

    @property
    def identity_lock(self) -> defer.DeferredLock:
        return self._identity("identity_lock").identity_lock

    @property
    def http_get(self) -> HttpGet:
        return self._identity("http_get").http_get

    @property
    def http_post(self) -> HttpPost:
        return self._identity("http_post").http_post

    # -- the network part ---------------------------------------------------------------------

    @property
    def p2p(self) -> P2PHub:
        if self.network is None:
            _missing("p2p", "p2p")
        return self.network
