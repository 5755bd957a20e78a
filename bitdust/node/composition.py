"""The composition of a BitDust node: which parts, services and local API an engine is made of.

This module sits at the bottom of the layer order (``bitdust/layers.py``): it may import every
package, and only what starts engines (the CLI, the runner, the twistd plugin, tests) imports it. The Engine core in :mod:`bitdust.main.engine` is handed what is chosen here
and knows services only by name, through the service registry. Later issues add their services
to :func:`default_service_factories`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, TypedDict, Unpack

from bitdust.interface.api import catalog as api_catalog
from bitdust.interface.api.registry import ApiRegistry
from bitdust.interface.openapi import build_openapi
from bitdust.interface.servers import ApiServers
from bitdust.main.collaborators import LocalApiFactory, NodePart
from bitdust.main.engine import Engine
from bitdust.main.service_framework.service_manager import ServiceFactory
from bitdust.node.engine import NodeEngine
from bitdust.services.identity_part import IdentityPart
from bitdust.services.network_part import P2PPart
from bitdust.services.service_backup_db import BackupDbService
from bitdust.services.service_customer import CustomerService
from bitdust.services.service_customer_patrol import CustomerPatrolService
from bitdust.services.service_entangled_dht import EntangledDhtService
from bitdust.services.service_gateway import GatewayService
from bitdust.services.service_identity_propagate import IdentityPropagateService
from bitdust.services.service_identity_server import IdentityServerService
from bitdust.services.service_keys_registry import KeysRegistryService
from bitdust.services.service_network import NetworkService
from bitdust.services.service_p2p_hookups import P2PHookupsService
from bitdust.services.service_supplier import SupplierService
from bitdust.services.service_tcp_connections import TcpConnectionsService
from bitdust.services.service_tcp_transport import TcpTransportService


class EngineOptions(TypedDict, total=False):
    """The Engine's own keyword arguments, which ``create_engine`` passes through."""

    rest_port: int | None
    ws_port: int | None
    terminal: bool
    owns_reactor: bool
    wait_lock: float
    strict_automats: bool


def default_service_factories() -> tuple[ServiceFactory[NodeEngine], ...]:
    """Factories ``f(engine) -> BitDustService`` of every real service of the engine."""
    return (
        KeysRegistryService,
        IdentityServerService,
        IdentityPropagateService,
        BackupDbService,
        NetworkService,
        GatewayService,
        TcpConnectionsService,
        TcpTransportService,
        P2PHookupsService,
        EntangledDhtService,
        SupplierService,
        CustomerPatrolService,
        CustomerService,
    )


def default_node_parts() -> tuple[NodePart[NodeEngine], ...]:
    """Parts of the node below the engine core; each fills its slot of ``NodeEngine`` (``identity``, ``network``)."""
    return (IdentityPart(), P2PPart())


def local_api(modules: Iterable[ModuleType] | None = None) -> LocalApiFactory:
    """The factory of an engine's REST and WebSocket servers over ``modules`` (default: all)."""

    def build(engine: Engine) -> ApiServers:
        registry = ApiRegistry.from_modules(
            engine,
            list(modules) if modules is not None else api_catalog.api_modules(),
            log=engine.logger("bitdust.api"),
            log_calls=lambda: engine.config.get("logs/api-enabled"),
        )
        openapi_doc = build_openapi(registry.specs(), version=engine.version)
        rest_port, ws_port = engine.api_ports()
        return ApiServers(
            engine.reactor,
            registry,
            engine.current_secret,
            rest_port=rest_port,
            ws_port=ws_port,
            rest_enabled=engine.config.get("interface/api/rest-http-enabled"),
            ws_enabled=engine.config.get("interface/api/web-socket-enabled"),
            max_request_size=lambda: engine.config.get("interface/api/max-request-size"),
            openapi=lambda: openapi_doc,
            log=engine.logger("bitdust.api"),
        )

    return build


def create_engine(
    home: Path,
    *,
    reactor: Any,
    service_factories: Iterable[ServiceFactory[NodeEngine]] | None = None,
    node_parts: Iterable[NodePart[NodeEngine]] | None = None,
    api_modules: Iterable[ModuleType] | None = None,
    **options: Unpack[EngineOptions],
) -> NodeEngine:
    """A stopped engine on ``home``: the real node unless a test replaces one of its three parts.

    ``options`` are the Engine's own keyword arguments (ports, ``terminal``, ``owns_reactor``,
    ``wait_lock``, ``strict_automats``).
    """
    return NodeEngine(
        home,
        reactor=reactor,
        service_factories=service_factories if service_factories is not None else default_service_factories(),
        node_parts=node_parts if node_parts is not None else default_node_parts(),
        local_api=local_api(api_modules),
        **options,
    )
