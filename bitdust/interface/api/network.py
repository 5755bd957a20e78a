"""API methods of the network: peers' status, pings, packets, connections, streams, the connector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.interface.api.constraints import between, each, one_of, text
from bitdust.interface.api.spec import ApiResult, api_method
from bitdust.interface.api.suppliers import customers_section, suppliers_section
from bitdust.main.errors import InvalidInput, Unavailable
from bitdust.p2p.errors import DeliveryFailed
from bitdust.p2p.traffic import IdentityFetches
from bitdust.userid.idurl import parse_user_ref

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine
    from bitdust.p2p.packet import Packet
    from bitdust.services.network_part import P2PHub
    from bitdust.transport.tcp.connections import TcpTransport

_USER = "IDURL or global id (name@host) of the user"
_TIMEOUT = between(0, 3600, exclusive_minimum=True)
_PROTOCOLS = each(one_of("tcp", "udp", "proxy"))


def _user(engine: NodeEngine, user_id: str) -> str:
    """The current primary IDURL of ``user_id``; 400 for bad input or ourselves.

    Peers are known by their identity's primary IDURL (what the gateway reports), whichever of
    their sources or old IDURLs the caller names them by.
    """
    idurl = engine.identity_cache.resolve(parse_user_ref(user_id)).url
    known = engine.identity_cache.get(idurl)
    if known is not None:
        idurl = known.idurl.url
    me = engine.local_identity.current
    if me is not None and idurl in {source.url for source in me.sources}:
        raise InvalidInput("that is this node's own identity")
    return idurl


def _positive(name: str, value: float, *, at_most: float = 3600.0) -> float:
    if not 0 < value <= at_most:
        raise InvalidInput(f"{name} must be more than 0 and at most {at_most:g}, got {value!r}")
    return value


def _status(engine: NodeEngine, idurl: str) -> dict[str, Any]:
    contacts = engine.p2p.require_contacts()
    status = contacts.find(idurl)
    parsed = parse_user_ref(idurl)
    result: dict[str, Any] = {"idurl": idurl, "global_id": parsed.global_id, "contact_state": contacts.state(idurl)}
    if status is not None:
        result.update({"since": status.since, "last_seen": status.last_seen, "problem": status.problem})
    return result


@api_method(
    "GET",
    "user/ping/v1",
    params={"user_id": _USER, "timeout": "seconds to wait in all", "retries": "extra attempts within the timeout"},
    constraints={"user_id": text(), "timeout": _TIMEOUT, "retries": between(0, 10)},
    answers=(502, 503, 504),
)
def user_ping(engine: NodeEngine, user_id: str, timeout: float = 15, retries: int = 2) -> defer.Deferred[ApiResult]:
    """Send our Identity packet to the user and wait for the Ack; the result has the round-trip time."""
    from bitdust.services.service_p2p_hookups import ping

    engine.p2p.require_contacts()
    _positive("timeout", timeout)
    if not 0 <= retries <= 10:
        raise InvalidInput(f"retries must be from 0 to 10, got {retries}")
    idurl = _user(engine, user_id)
    started = engine.reactor.seconds()

    def answered(_ack: Packet | None) -> ApiResult:
        rtt = engine.reactor.seconds() - started
        result = {**_status(engine, idurl), "rtt": round(rtt, 6), "rtt_ms": round(rtt * 1000, 3)}
        return ApiResult(result, message="connected")

    def failed(failure: Failure) -> Failure:
        failure.trap(DeliveryFailed)
        return failure

    return ping(engine, idurl, timeout=timeout, retries=retries).addCallbacks(answered, failed)


@api_method("GET", "user/status/v1", params={"user_id": _USER}, constraints={"user_id": text()}, answers=(503,))
def user_status(engine: NodeEngine, user_id: str) -> dict[str, Any]:
    """What this node believes about the user now (CONNECTED, PING or OFFLINE), without asking them."""
    return _status(engine, _user(engine, user_id))


@api_method(
    "GET",
    "user/status/check/v1",
    params={"user_id": _USER, "timeout": "seconds the check may take"},
    constraints={"user_id": text(), "timeout": _TIMEOUT},
    answers=(502, 503, 504),
)
def user_status_check(
    engine: NodeEngine, user_id: str, timeout: float = 5
) -> defer.Deferred[dict[str, Any]] | dict[str, Any]:
    """The user's status; a user not known to be CONNECTED is pinged first."""
    contacts = engine.p2p.require_contacts()
    _positive("timeout", timeout)
    idurl = _user(engine, user_id)
    if contacts.state(idurl) == "CONNECTED":
        return _status(engine, idurl)
    return contacts.check(idurl, timeout).addCallback(lambda _state: _status(engine, idurl))


@api_method("GET", "packet/list/v1", answers=(503,))
def packets_list(engine: NodeEngine) -> list[dict[str, Any]]:
    """Packets as a list of rows, each with ``direction`` ("outgoing" or "incoming"), ``command``, ``packet_id``.

    Outgoing rows: the packets in flight (``in_flight`` true, with their state machine's state), then
    the most recent finished ones; ``items`` lists each attempt handed to a transport (``transfer_id``,
    ``proto``, ``host``, ``size``, ``bytes_sent``). Incoming rows: large packets the TCP transport is
    receiving right now (``in_flight`` true, ``bytes_received`` so far; their command is known only
    once they are whole, so it is null), then the most recent packets accepted from peers.
    """
    hub = engine.p2p
    rows = hub.require_gateway().packets_json()
    if hub.tcp is not None:
        rows.extend(_incoming_stream_row(stream) for stream in hub.tcp.streams_json() if stream["direction"] == "in")
    return rows


def _incoming_stream_row(stream: dict[str, Any]) -> dict[str, Any]:
    return {
        "direction": "incoming",
        "command": None,
        "packet_id": None,
        "transfer_id": f"{stream['host']}/{stream['stream_id']}",
        "label": f"in:stream:{stream['stream_id']}",
        "target": stream["idurl"],
        "timeout": None,
        "proto": stream["proto"],
        "host": stream["host"],
        "size": stream["size"],
        "bytes_received": stream["bytes_done"],
        "in_flight": True,
        "progress": stream["progress"],
    }


@api_method("GET", "packet/stats/v1", answers=(503,))
def packets_stats(engine: NodeEngine) -> dict[str, Any]:
    """Packets and bytes in and out: the original's ``in``/``out`` totals, and ours per command and peer.

    ``in`` and ``out`` carry the original BitDust's counters (``total_bytes``, ``unknown_bytes``,
    ``total_packets``, ``unknown_packets``, ``failed_packets``, bytes per peer in ``peers``; ``in``
    also ``identity_cache_count``/``_fails``/``_bytes``, the identity documents fetched over HTTP).
    ``total``, ``commands`` and ``peers`` count packets and bytes each way; ``dropped`` counts the
    packets refused, by reason (``no-gateway``: arrived while the gateway was not running).
    """
    hub = engine.p2p
    cache = engine.identity_cache
    fetches = IdentityFetches(count=cache.fetched, fails=cache.fetch_failures, bytes=cache.fetched_bytes)
    stats = hub.require_gateway().stats.to_json(fetches)
    stats["dropped"]["no-gateway"] = hub.dropped_without_gateway
    return stats


def _tcp_if_wanted(engine: NodeEngine, protocols: list[str] | None) -> TcpTransport | None:
    """The TCP transport when ``protocols`` asks for tcp (None: every protocol), else None."""
    if protocols is not None:
        unknown = [p for p in protocols if p not in ("tcp", "udp", "proxy")]
        if unknown:
            raise InvalidInput(f"unknown protocols {unknown}: use tcp, udp or proxy")
        if "tcp" not in protocols:
            return None
    tcp = engine.p2p.tcp
    if tcp is None:
        raise Unavailable("service_tcp_connections is not running")
    return tcp


@api_method(
    "GET",
    "connection/list/v1",
    params={"protocols": "e.g. tcp,udp,proxy (only tcp exists so far)"},
    constraints={"protocols": _PROTOCOLS},
    answers=(503,),
)
def connections_list(engine: NodeEngine, protocols: list[str] | None = None) -> list[dict[str, Any]]:
    """Open connections to peers, with bytes and packets each way."""
    tcp = _tcp_if_wanted(engine, protocols)
    rows = tcp.connections_json() if tcp is not None else []
    for row in rows:
        row["global_id"] = parse_user_ref(row["idurl"]).global_id if row["idurl"] else None
    return rows


@api_method(
    "GET",
    "stream/list/v1",
    params={"protocols": "e.g. tcp,udp,proxy (only tcp exists so far)"},
    constraints={"protocols": _PROTOCOLS},
    answers=(503,),
)
def streams_list(engine: NodeEngine, protocols: list[str] | None = None) -> list[dict[str, Any]]:
    """Large packets being streamed right now, each way, with their progress."""
    tcp = _tcp_if_wanted(engine, protocols)
    return tcp.streams_json() if tcp is not None else []


@api_method(
    "GET",
    "network/connected/v1",
    params={"wait_timeout": "seconds to wait while the node is connecting"},
    constraints={"wait_timeout": between(0, 600)},
    answers=(503,),
)
def network_connected(engine: NodeEngine, wait_timeout: float = 5) -> defer.Deferred[ApiResult]:
    """OK once the node is connected; an error with the reason if it is not within ``wait_timeout``."""
    connector = engine.p2p.require_connector()
    if not 0 <= wait_timeout <= 600:
        raise InvalidInput(f"wait_timeout must be from 0 to 600, got {wait_timeout}")
    if connector.state == "DISCONNECTED":
        connector.reconnect()

    def settled(connected: bool) -> ApiResult:
        if not connected:
            reason = connector.problem or f"network_connector is {connector.state}"
            raise Unavailable(f"the node is not connected: {reason}")
        return ApiResult({"network_connector_state": connector.state}, message="connected")

    return connector.wait_settled(wait_timeout).addCallback(settled)


@api_method("GET", "network/reconnect/v1", answers=(503,))
def network_reconnect(engine: NodeEngine) -> defer.Deferred[ApiResult]:
    """Start the enabled network services that are not running, then check the transports and our
    published contacts again.

    After ``identity_create`` without ``join_network`` this is what connects the node; a
    disabled service stays off (``service_start`` enables one).
    """
    if "service_network" in engine.services.names():
        d = engine.services.start_enabled(within="service_network")
    else:
        d = defer.succeed([])

    def reconnect(started: list[str]) -> ApiResult:
        connector = engine.p2p.require_connector()
        connector.reconnect()
        result = {"network_connector_state": connector.state, "started_services": started}
        return ApiResult(result, message="reconnect started")

    return d.addCallback(reconnect)


_NOT_HERE = {
    "udp": "service_udp_transport",
    "proxy": "service_proxy_transport",
}


@api_method(
    "GET",
    "network/status/v1",
    params={
        "suppliers": "include our suppliers",
        "customers": "include our customers",
        "cache": "include the identity cache and contact statuses",
        "tcp": "include TCP sessions and streams",
        "udp": "include UDP sessions",
        "proxy": "include proxy routes",
        "dht": "include the DHT layers",
    },
)
def network_status(
    engine: NodeEngine,
    suppliers: bool = False,
    customers: bool = False,
    cache: bool = False,
    tcp: bool = False,
    udp: bool = False,
    proxy: bool = False,
    dht: bool = False,
) -> dict[str, Any]:
    """The node's connection state and identity, plus the parts asked for.

    ``network_connector_state`` is the state of our network_connector machine (service_network):
    AT_STARTUP, CONNECTING, CONNECTED or DISCONNECTED, or OFF while the service does not run.
    ``p2p_connector_state`` is for clients of the original, whose p2p_connector owned the
    peer-to-peer side (transports listening, our identity published with their contacts). Our
    network_connector does that same check, so the p2p state is its state, except that it is OFF
    while the gateway does not run (no identity yet, or service_gateway stopped: no packet can go
    in or out) and DISCONNECTED while the gateway has no transport attached.
    """
    hub = engine.p2p
    me = engine.local_identity.current
    result: dict[str, Any] = {
        "p2p_connector_state": p2p_connector_state(hub),
        "network_connector_state": hub.connector_state(),
        "network_connector_problem": hub.connector.problem if hub.connector is not None else None,
        "idurl": me.idurl.url if me is not None else None,
        "global_id": me.global_id if me is not None else None,
        "identity_sources": [s.url for s in me.sources] if me is not None else [],
        "identity_contacts": list(me.contacts) if me is not None else [],
        "identity_revision": me.revision if me is not None else None,
    }
    if cache:
        contacts = hub.contacts
        result["cache"] = {
            "total": len(engine.identity_cache),
            "connected": len(contacts.connected()) if contacts is not None else 0,
            "peers": contacts.list() if contacts is not None else [],
        }
    if tcp:
        result["tcp"] = (
            hub.tcp.status_json()
            if hub.tcp is not None
            else {"active": False, "reason": "service_tcp_connections is not running"}
        )
    if dht:
        result["dht"] = _dht_part(engine)
    if suppliers:
        result["suppliers"] = suppliers_section(engine)
    if customers:
        result["customers"] = customers_section(engine)
    for flag, name in ((udp, "udp"), (proxy, "proxy")):
        if flag:
            result[name] = {"active": False, "reason": f"{_NOT_HERE[name]} does not exist in this node yet"}
    return result


def p2p_connector_state(hub: P2PHub) -> str:
    """The original's ``p2p_connector_state`` as ``network_status`` documents it."""
    if hub.gateway is None:
        return "OFF"
    if not hub.gateway.transports:
        return "DISCONNECTED"
    return str(hub.connector_state())


def _dht_part(engine: NodeEngine) -> dict[str, Any]:
    try:
        from bitdust.services.service_entangled_dht import network_status_part
    except ImportError:
        return {"active": False, "reason": "service_entangled_dht does not exist in this node yet"}
    return network_status_part(engine)


@api_method("GET", "network/configuration/v1")
def network_configuration(engine: NodeEngine) -> dict[str, Any]:
    """The network services, their options and what the node publishes in its identity."""
    return engine.p2p.configuration()
