"""The services a node can run, in one list; later issues add theirs here."""

from __future__ import annotations

from bitdust.main.service_manager import ServiceFactory
from bitdust.services.identity_part import IdentityPart
from bitdust.services.network_part import P2PPart
from bitdust.services.service_backup_db import BackupDbService
from bitdust.services.service_entangled_dht import EntangledDhtService
from bitdust.services.service_gateway import GatewayService
from bitdust.services.service_identity_propagate import IdentityPropagateService
from bitdust.services.service_identity_server import IdentityServerService
from bitdust.services.service_keys_registry import KeysRegistryService
from bitdust.services.service_network import NetworkService
from bitdust.services.service_p2p_hookups import P2PHookupsService
from bitdust.services.service_tcp_connections import TcpConnectionsService
from bitdust.services.service_tcp_transport import TcpTransportService


def service_factories() -> tuple[ServiceFactory, ...]:
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
    )


def node_parts() -> tuple[IdentityPart | P2PPart, ...]:
    """Parts of the node below the engine core that attach themselves to every engine."""
    return (IdentityPart(), P2PPart())
