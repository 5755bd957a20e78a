"""service_identity_propagate: keeps our identity published on healthy identity servers.

Every ``health-check-interval-seconds`` it probes our sources; when one is down, lost our
document or was taken over, the identity is rotated to healthy servers of the network config
(``automatic-rotate-enabled``). Peers learn of the change once the transport exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Bool, PositiveInt
from bitdust.services.identity_part import rotate_identity
from bitdust.services.node_service import NodeService

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine


class IdentityPropagateService(NodeService):
    name = "service_identity_propagate"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_keys_registry",)
    description = "checks our identity servers and rotates away from broken ones"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
        self._running: defer.Deferred[Any] | None = None
        self.checks = 0

    def options(self) -> tuple[Option, ...]:
        prefix = self.config_prefix()
        return (
            Option(
                f"{prefix}/automatic-rotate-enabled",
                Bool(),
                True,
                "rotate the identity when one of its servers is unhealthy",
            ),
            Option(
                f"{prefix}/health-check-interval-seconds",
                PositiveInt(max=86400),
                300,
                "how often our identity servers are checked",
            ),
        )

    def start(self) -> None:
        """Check every ``health-check-interval-seconds``, the first time one interval from now."""
        interval = self.engine.config.get(f"{self.config_prefix()}/health-check-interval-seconds")
        self.run_every(interval, self.check, clock=self.engine.reactor)

    def stop(self) -> defer.Deferred[Any] | None:
        """The timer stopped with the service's children; wait for a check started another way."""
        running, self._running = self._running, None
        return running

    def check(self) -> defer.Deferred[Any] | None:
        """One health check (and rotation when needed); skipped while one is under way."""
        engine = self.engine
        if self._running is not None or engine.local_identity.current is None:
            return None
        if not engine.config.get(f"{self.config_prefix()}/automatic-rotate-enabled"):
            return None
        self.checks += 1

        def failed(failure: Failure) -> None:
            engine.log.warn("identity health check failed: {reason}", reason=failure.getErrorMessage())

        d = rotate_identity(engine, force=False).addErrback(failed)
        self._running = d

        def finished(_: Any) -> None:
            self._running = None

        d.addBoth(finished)
        return d
