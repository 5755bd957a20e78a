"""service_gateway: verifies every incoming packet and sends ours (bitdust.p2p.gateway).

The gateway's replay memory outlives the process (:mod:`bitdust.p2p.replay_store`): it is loaded
before the gateway is published to the transports, saved every ``replay-save-interval`` seconds
while it changes, and saved clean at stop once the gateway accepts nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Float, Int
from bitdust.p2p.gateway import Gateway
from bitdust.p2p.replay_store import ReplayStore
from bitdust.services.node_service import NodeService

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine


class GatewayService(NodeService):
    name = "service_gateway"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_network", "service_keys_registry")
    description = "routes packets between the transports and the services that handle them"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
        self.replay_store: ReplayStore | None = None

    def options(self) -> tuple[Option, ...]:
        prefix = self.config_prefix()
        return (
            Option(
                f"{prefix}/p2p-timeout", Float(min=0.1, max=3600), 15.0, "seconds an outgoing packet waits for its Ack"
            ),
            Option(f"{prefix}/p2p-retries", Int(min=0, max=10), 2, "extra attempts within that time"),
            Option(
                f"{prefix}/replay-save-interval",
                Float(min=0.5, max=60),
                5.0,
                "seconds between saves of the replay memory while it changes (a crash costs peers a minute either way)",
            ),
        )

    def installed(self) -> bool:
        return self.engine.local_identity.current is not None

    def start(self) -> defer.Deferred[None]:
        engine = self.engine
        prefix = self.config_prefix()

        def signing_key() -> Any:
            master = engine.keys.master()
            return master.key if master is not None else None

        gateway = Gateway(
            clock=engine.reactor,
            identity=lambda: engine.local_identity.current,
            signing_key=signing_key,
            cache=engine.identity_cache,
            run_blocking=engine.run_blocking,
            automats=engine.automats,
            log=engine.logger("bitdust.gateway"),
            default_timeout=engine.config.get(f"{prefix}/p2p-timeout"),
            default_retries=engine.config.get(f"{prefix}/p2p-retries"),
        )
        store = ReplayStore(
            gateway.replays,
            engine.paths.replay_state,
            clock=engine.reactor,
            run_blocking=engine.run_blocking,
            interval=engine.config.get(f"{prefix}/replay-save-interval"),
            log=engine.logger("bitdust.replay"),
        )

        def loaded(_: None) -> None:
            # Only now may packets reach it: until the hub has a gateway, transports' packets are dropped.
            self.replay_store = store
            store.start()
            engine.p2p.gateway = gateway

        return store.load().addCallback(loaded)

    def stop(self) -> defer.Deferred[None] | None:
        hub = self.engine.p2p
        gateway, hub.gateway = hub.gateway, None
        if gateway is not None:
            gateway.stop()
        store, self.replay_store = self.replay_store, None
        return store.stop() if store is not None else None
