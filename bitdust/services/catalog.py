"""The services a node can run, in one list; later issues add theirs here."""

from __future__ import annotations

from bitdust.main.service_manager import ServiceFactory
from bitdust.services.identity_part import IdentityPart
from bitdust.services.service_backup_db import BackupDbService
from bitdust.services.service_identity_propagate import IdentityPropagateService
from bitdust.services.service_identity_server import IdentityServerService
from bitdust.services.service_keys_registry import KeysRegistryService


def service_factories() -> tuple[ServiceFactory, ...]:
    """Factories ``f(engine) -> BitDustService`` of every real service of the engine."""
    return (KeysRegistryService, IdentityServerService, IdentityPropagateService, BackupDbService)


def node_parts() -> tuple[IdentityPart, ...]:
    """Parts of the node below the engine core that attach themselves to every engine."""
    return (IdentityPart(),)
