"""service_gateway: verifies every incoming packet and sends ours (bitdust.p2p.gateway)."""

from __future__ import annotations

from typing import Any

from bitdust.main.config_options import Option
from bitdust.main.config_types import Float, Int
from bitdust.main.service import BitDustService
from bitdust.p2p.gateway import Gateway


class GatewayService(BitDustService):
    name = "service_gateway"
    depends_on = ("service_network", "service_keys_registry")
    description = "routes packets between the transports and the services that handle them"

    def options(self) -> tuple[Option, ...]:
        prefix = self.config_prefix()
        return (
            Option(
                f"{prefix}/p2p-timeout", Float(min=0.1, max=3600), 15.0, "seconds an outgoing packet waits for its Ack"
            ),
            Option(f"{prefix}/p2p-retries", Int(min=0, max=10), 2, "extra attempts within that time"),
        )

    def installed(self) -> bool:
        return self.engine.local_identity.current is not None

    def start(self) -> None:
        engine = self.engine

        def signing_key() -> Any:
            master = engine.keys.master()
            return master.key if master is not None else None

        engine.p2p.gateway = Gateway(
            clock=engine.reactor,
            identity=lambda: engine.local_identity.current,
            signing_key=signing_key,
            cache=engine.identity_cache,
            run_blocking=engine.run_blocking,
            automats=engine.automats,
            log=engine.logger("bitdust.gateway"),
            default_timeout=engine.config.get(f"{self.config_prefix()}/p2p-timeout"),
            default_retries=engine.config.get(f"{self.config_prefix()}/p2p-retries"),
        )

    def stop(self) -> None:
        hub = self.engine.p2p
        gateway, hub.gateway = hub.gateway, None
        if gateway is not None:
            gateway.stop()
