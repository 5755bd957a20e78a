"""service_customer_patrol: drop the customers that stayed away longer than ``customer-idle-days``.

Every ``check-interval`` seconds (a ``run_every`` child of the service) it saves when each
customer was last heard from (``service_supplier`` notes every packet) and drops the idle ones
the way ``customer_reject`` does: the customer is told with a ``CancelService`` and a reason, its
data is removed and its space freed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import defer

from bitdust.main.logs import log_failure
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import PositiveInt
from bitdust.services.node_service import NodeService
from bitdust.services.service_supplier import drop_customer

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine
    from bitdust.supplier.ledger import CustomerEntry

DAY = 24 * 3600


class CustomerPatrolService(NodeService):
    name = "service_customer_patrol"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_supplier",)
    description = "drops customers that have not been heard from for customer-idle-days"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)

    def options(self) -> tuple[Option, ...]:
        prefix = self.config_prefix()
        return (
            Option(
                f"{prefix}/customer-idle-days",
                PositiveInt(max=3650),
                14,
                "days a customer may stay away before its space is taken back",
            ),
            Option(f"{prefix}/check-interval", PositiveInt(max=DAY), 3600, "seconds between two patrols"),
        )

    def start(self) -> None:
        interval = self.engine.config.get(f"{self.config_prefix()}/check-interval")
        self.run_every(interval, self.patrol, clock=self.engine.reactor)

    def patrol(self) -> defer.Deferred[list[CustomerEntry]]:
        """Save the last-seen dates, then drop every customer idle for too long; fires with those dropped."""
        engine = self.engine
        space = engine.supplier
        if space is None:
            return defer.succeed([])
        days: int = engine.config.get(f"{self.config_prefix()}/customer-idle-days")
        idle = space.ledger.idle(engine.reactor.seconds(), days * DAY)

        def drop(_: None) -> defer.Deferred[list[CustomerEntry]]:
            drops = [drop_customer(engine, entry.idurl, f"idle for more than {days} days") for entry in idle]
            return defer.gatherResults(drops, consumeErrors=True)

        d = space.save_if_touched().addCallback(drop)
        d.addErrback(log_failure(engine.log, "the customer patrol failed"))
        return d
