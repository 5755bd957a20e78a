"""service_identity_server: host other users' identity files over HTTP (an identity server role)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer, endpoints, error
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort
from twisted.python.failure import Failure

from bitdust.main.errors import BitDustError
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Port, PositiveInt, String
from bitdust.services.node_service import NodeService
from bitdust.userid.identity_quotas import (
    DEFAULT_MAX_IDENTITIES,
    DEFAULT_MAX_NEW_PER_ADDRESS,
    DEFAULT_MAX_PER_KEY,
    IdentityServerLimits,
)
from bitdust.userid.identity_server import DEFAULT_WEB_PORT, IdentityStore, make_identity_server_site

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine


class IdentityServerService(NodeService):
    name = "service_identity_server"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    enabled_by_default = False
    description = "serves GET /<name>.xml and accepts signed registrations by POST"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
        #: The HTTP port while the service runs: a child ListeningService holds it.
        self.port: IListeningPort | None = None
        self.store: IdentityStore | None = None

    def options(self) -> tuple[Option, ...]:
        prefix = self.config_prefix()
        return (
            Option(
                f"{prefix}/host",
                String(max_length=253),
                "127.0.0.1",
                "host name written in the IDURLs this server hosts",
            ),
            Option(f"{prefix}/web-port", Port(), DEFAULT_WEB_PORT, "HTTP port of the identity server"),
            Option(
                f"{prefix}/interface",
                String(max_length=64),
                "127.0.0.1",
                "address the identity server listens on (0.0.0.0 to serve other machines)",
            ),
            Option(
                f"{prefix}/max-identities",
                PositiveInt(max=10_000_000),
                DEFAULT_MAX_IDENTITIES,
                "most identities this server hosts; past it new names are refused (507), updates still work",
            ),
            Option(
                f"{prefix}/max-identities-per-key",
                PositiveInt(max=10_000),
                DEFAULT_MAX_PER_KEY,
                "most names one public key may hold on this server (403 past it)",
            ),
            Option(
                f"{prefix}/max-new-identities-per-address",
                PositiveInt(max=1_000_000),
                DEFAULT_MAX_NEW_PER_ADDRESS,
                "most new names created from one client address per hour (429 past it)",
            ),
        )

    @property
    def web_port(self) -> int | None:
        """The port actually listened on (the option may be 0: any free port), while the service runs."""
        address = self.port.getHost() if self.port is not None else None
        return address.port if isinstance(address, IPv4Address) else None

    def start(self) -> defer.Deferred[Any]:
        engine = self.engine
        prefix = self.config_prefix()
        host = engine.config.get(f"{prefix}/host")
        port = engine.config.get(f"{prefix}/web-port")
        interface = engine.config.get(f"{prefix}/interface")
        limits = IdentityServerLimits(
            max_identities=engine.config.get(f"{prefix}/max-identities"),
            max_per_key=engine.config.get(f"{prefix}/max-identities-per-key"),
            max_new_per_address=engine.config.get(f"{prefix}/max-new-identities-per-address"),
        )

        store = self.store = IdentityStore(
            engine.paths.sub("identityserver"), log=engine.logger("bitdust.identity_server")
        )

        def listen(_: object) -> defer.Deferred[None]:
            site = make_identity_server_site(
                store,
                host=host,
                port=port,
                run_blocking=engine.run_blocking,
                log=engine.logger("bitdust.identity_server"),
                reactor=engine.reactor,
                limits=limits,
            )
            endpoint = endpoints.TCP4ServerEndpoint(engine.reactor, port, interface=interface)
            return self.listen_on(endpoint, site).addCallbacks(listening, refused)

        def listening(listening_port: IListeningPort) -> None:
            self.port = listening_port
            engine.log.info("identity server on http://{host}:{port}/", host=host, port=port)

        def refused(failure: Failure) -> None:
            failure.trap(error.CannotListenError)
            raise BitDustError(
                f"identity server cannot listen on {interface}:{port} ({prefix}/web-port): {failure.value}"
            )

        return engine.run_blocking(store.load).addCallback(listen)

    def stop(self) -> None:
        """The port closed with the service's children; only our reference to it is left."""
        self.port = None
