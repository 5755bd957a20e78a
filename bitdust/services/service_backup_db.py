"""service_backup_db: the catalog of remote paths (``<home>/catalog/catalog.db``).

The catalog is opened in the thread pool because SQLite may have to replay its WAL journal on
open, which is disk work the reactor thread must not wait for.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from bitdust.services.node_service import NodeService
from bitdust.storage.catalog import Catalog


class BackupDbService(NodeService):
    name = "service_backup_db"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_keys_registry",)
    description = "keeps the catalog of remote files and folders, their path ids and versions"

    def start(self) -> defer.Deferred[Any]:
        engine = self.engine
        d = engine.run_blocking(Catalog.open, engine.paths.sub("catalog"))

        def opened(catalog: Catalog) -> None:
            engine.catalog = catalog

        return d.addCallback(opened)

    def stop(self) -> defer.Deferred[Any] | None:
        catalog = getattr(self.engine, "catalog", None)
        self.engine.catalog = None
        if catalog is None:
            return None
        return self.engine.run_blocking(catalog.close)
