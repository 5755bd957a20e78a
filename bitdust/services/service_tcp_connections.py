"""service_tcp_connections: the listening TCP socket and the connection pool.

Connections prove who is on the other end with our master key and check the peers' proofs against
the identity cache (:mod:`bitdust.transport.tcp.auth`); what strangers and peers may make us hold
for unfinished packets is bounded by the ``unfinished-*`` options.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, endpoints
from twisted.internet.interfaces import IListeningPort
from twisted.python.failure import Failure

from bitdust.main.errors import BitDustError
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Port, PositiveInt, Size, String
from bitdust.p2p.packet import DEFAULT_LIMITS
from bitdust.services.node_service import NodeService
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.auth import Authenticator
from bitdust.transport.tcp.budget import BudgetLimits
from bitdust.transport.tcp.connections import TcpTransport

DEFAULT_TCP_PORT = 7771
KB = 1024
MB = 1024 * KB


class TcpConnectionsService(NodeService):
    name = "service_tcp_connections"  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_network",)
    description = "listens for TCP connections from peers and keeps one connection per peer"

    def options(self) -> tuple[Option, ...]:
        prefix = self.config_prefix()
        return (
            Option(f"{prefix}/tcp-port", Port(), DEFAULT_TCP_PORT, "TCP port peers connect to"),
            Option(f"{prefix}/interface", String(max_length=253), "", "address to listen on; empty means all"),
            Option(
                f"{prefix}/host",
                String(max_length=253),
                "",
                "host written into our identity contacts; empty: our address towards the identity servers",
            ),
            Option(
                f"{prefix}/idle-timeout-seconds",
                PositiveInt(max=86400),
                300,
                "a connection that carried no packets for this long is closed",
            ),
            Option(
                f"{prefix}/max-connections",
                PositiveInt(max=100_000),
                1000,
                "incoming connections beyond this are refused",
            ),
            Option(
                f"{prefix}/unfinished-per-stranger",
                Size(min=frames.MAX_BUFFER, max=DEFAULT_LIMITS.max_packet),
                512 * KB,
                "bytes of unfinished packets one connection may make us hold before it proved who it is",
            ),
            Option(
                f"{prefix}/unfinished-strangers-total",
                Size(min=frames.MAX_BUFFER, max=64 * 1024 * MB),
                16 * MB,
                "bytes of unfinished packets all connections that proved nothing yet may make us hold together",
            ),
            Option(
                f"{prefix}/unfinished-total",
                Size(min=DEFAULT_LIMITS.max_packet + frames.MAX_BUFFER, max=64 * 1024 * MB),
                256 * MB,
                "bytes of unfinished packets all connections together may make us hold; beyond, reading waits",
            ),
            Option(
                f"{prefix}/stalled-stream-seconds",
                PositiveInt(max=86400),
                60,
                "a connection that holds an unfinished packet without progress for this long is dropped",
            ),
        )

    def start(self) -> defer.Deferred[Any]:
        engine = self.engine
        prefix = self.config_prefix()
        hub = engine.p2p
        cache = engine.identity_cache

        def identity_for(idurl: str) -> defer.Deferred[Any]:
            # As for any packet's creator: the cached identity, fetched when unknown.
            known = cache.get(idurl)
            return defer.succeed(known) if known is not None else cache.fetch(idurl)

        def signing_key() -> Any:
            master = engine.keys.master()
            return master.key if master is not None else None

        authenticator = Authenticator(
            identity=lambda: engine.local_identity.current,
            signing_key=signing_key,
            identity_for=identity_for,
            run_blocking=engine.run_blocking,
        )
        budget = BudgetLimits(
            per_peer=DEFAULT_LIMITS.max_packet + frames.MAX_BUFFER,
            per_stranger=engine.config.get(f"{prefix}/unfinished-per-stranger"),
            strangers_total=engine.config.get(f"{prefix}/unfinished-strangers-total"),
            total=engine.config.get(f"{prefix}/unfinished-total"),
        )
        transport = TcpTransport(
            engine.reactor,
            on_packet=hub.inbox,
            on_peer_closed=hub.peer_closed,
            max_packet=DEFAULT_LIMITS.max_packet,
            idle_close=engine.config.get(f"{prefix}/idle-timeout-seconds"),
            max_connections=engine.config.get(f"{prefix}/max-connections"),
            receive_limit=engine.config.get("services/network/receive-limit"),
            send_limit=engine.config.get("services/network/send-limit"),
            authenticator=authenticator,
            budget=budget,
            stall_timeout=engine.config.get(f"{prefix}/stalled-stream-seconds"),
            log=engine.logger("bitdust.tcp"),
        )

        def me() -> str | None:
            identity = engine.local_identity.current
            return identity.idurl.url if identity is not None else None

        transport.local_idurl = me
        port = engine.config.get(f"{prefix}/tcp-port")

        # The listening port is a child of this service (stopping the service closes it); the
        # transport accepts on it.
        endpoint = endpoints.TCP4ServerEndpoint(
            engine.reactor, port, interface=engine.config.get(f"{prefix}/interface")
        )

        def listening(listening_port: IListeningPort) -> None:
            transport.serve_on(listening_port)
            hub.tcp = transport
            engine.log.info("tcp transport listening on port {port}", port=transport.listening_port)

        def failed(failure: Failure) -> None:
            raise BitDustError(f"cannot listen on TCP port {port}: {failure.getErrorMessage()}")

        return self.listen_on(endpoint, transport.incoming_factory()).addCallbacks(listening, failed)

    def stop(self) -> defer.Deferred[Any] | None:
        """Say goodbye on every connection (the port closed with the service's children) and wait."""
        hub = self.engine.p2p
        transport, hub.tcp = hub.tcp, None
        return transport.stop() if transport is not None else None
