"""API methods about the engine process itself."""

from __future__ import annotations

import os
import resource
import sys
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.interface.api.spec import ApiResult, api_method
from bitdust.interface.api.suppliers import contact_counts
from bitdust.main.errors import Conflict

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine


def _rss_bytes() -> int:
    """Resident memory now; ``/proc`` where it exists, else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


@api_method("GET", "process/stop/v1")
def process_stop(engine: NodeEngine) -> ApiResult:
    """Stop the engine process.

    Services stop first, then the API servers; the process exits and its pid file is removed.
    The answer is sent before the API closes.
    """
    engine.reactor.callLater(0, engine.stop)
    return ApiResult({"stopping": True, "pid": engine.pid}, message="engine is stopping")


@api_method("GET", "process/restart/v1")
def process_restart(engine: NodeEngine) -> ApiResult:
    """Restart the engine process.

    The engine shuts down in order and a new process (with a new pid) starts on the same home
    folder; poll `process_health` until it answers again.
    """
    engine.reactor.callLater(0, engine.stop, True)
    return ApiResult({"restarting": True, "pid": engine.pid}, message="engine is restarting")


@api_method("GET", "process/health/v1")
def process_health(engine: NodeEngine) -> dict[str, Any]:
    """Positive answer while the engine runs; meant for health checks."""
    return {"alive": True, "state": engine.state}


@api_method("GET", "process/info/v1")
def process_info(engine: NodeEngine) -> defer.Deferred[dict[str, Any]]:
    """Overall information about the engine process, for monitoring.

    Ours: ``pid``, ``version``, ``home``, ``engine_state``, ``started``, ``uptime``, ``memory``,
    ``python``, ``api``, ``event``. The original's sections, each filled from what this node
    has: ``config``, ``identity``, ``contact`` (``active``: peers CONNECTED now), ``service``,
    ``key`` (``registered`` keys), ``file`` (the catalog's counts, once service_backup_db runs),
    ``dht`` (per layer stored values and packets), ``network`` (transports and packets), and
    ``automats``. What does not exist in this node yet is reported as 0: suppliers, customers,
    correspondents and customer assistants in ``contact``, ``share`` and ``group`` ``active``,
    and every ``stream`` (message queue) counter.
    """
    services = engine.services.list()
    info: dict[str, Any] = {
        "pid": engine.pid,
        "version": engine.version,
        "home": str(engine.paths.home),
        "engine_state": engine.state,
        "started": engine.started_at,
        "uptime": round(engine.uptime(), 3),
        "memory": {"rss": _rss_bytes()},
        "python": sys.version.split()[0],
        "api": {
            "rest_port": engine.api.rest_port if engine.api else None,
            "ws_port": engine.api.ws_port if engine.api else None,
        },
        "config": {"options": len(engine.config.keys())},
        "identity": _identity_info(engine),
        "contact": _contact_info(engine),
        "service": {
            "active": sum(1 for s in services if s["state"] == "ON"),
            "total": len(services),
        },
        "key": {"registered": len(engine.keys) if getattr(engine, "keys", None) is not None else 0},
        "file": dict(_NO_FILES),
        "dht": _dht_info(engine),
        "share": {"active": 0},
        "group": {"active": 0},
        "network": _network_info(engine),
        "stream": dict.fromkeys(_STREAM_COUNTERS, 0),
        "automats": {"active": len(engine.automats.list())},
        "event": {"consumers": len(engine.events.consumers())},
    }
    catalog = getattr(engine, "catalog", None)
    if catalog is None or not engine.services.is_on("service_backup_db"):
        return defer.succeed(info)

    def with_files(totals: dict[str, int]) -> dict[str, Any]:
        info["file"] = totals
        return info

    return engine.run_blocking(catalog.totals).addCallback(with_files)


_NO_FILES = {
    "items": 0,
    "files": 0,
    "files_size": 0,
    "folders": 0,
    "folders_size": 0,
    "backups_size": 0,
    "customers": 0,
}
_STREAM_COUNTERS = ("queues", "consumers", "producers", "keepers", "peddlers", "supplier_queues")


def _identity_info(engine: NodeEngine) -> dict[str, Any]:
    """``cache``: identities held; ``cache_ids``: the IDURLs they are known by; ``cache_contacts``: their contacts."""
    local = getattr(engine, "local_identity", None)
    current = local.current if local is not None else None
    cache = getattr(engine, "identity_cache", None)
    rows = cache.list() if cache is not None else []
    known = [cache.get(row["idurl"]) for row in rows] if cache is not None else []
    return {
        "ready": current is not None,
        "global_id": current.global_id if current is not None else None,
        "idurl": current.idurl.url if current is not None else None,
        "cache": len(rows),
        "cache_ids": sum(len(identity.sources) for identity in known if identity is not None),
        "cache_contacts": sum(len(row["contacts"]) for row in rows),
    }


def _contact_info(engine: NodeEngine) -> dict[str, Any]:
    contacts = engine.p2p.contacts
    return {
        "active": len(contacts.connected()) if contacts is not None else 0,
        "correspondents": 0,
        **contact_counts(engine),
        "customer_assistants": 0,
    }


def _network_info(engine: NodeEngine) -> dict[str, Any]:
    """``packets_out``/``packets_in``: in flight now; ``*_total``: since the gateway started."""
    hub = engine.p2p
    gateway = hub.gateway
    incoming = 0
    if hub.tcp is not None:
        incoming = sum(1 for stream in hub.tcp.streams_json() if stream["direction"] == "in")
    return {
        "protocols": sorted(gateway.transports) if gateway is not None else [],
        "packets_out": len(gateway.outgoing) if gateway is not None else 0,
        "packets_out_total": gateway.stats.total.packets_out if gateway is not None else 0,
        "packets_in": incoming,
        "packets_in_total": gateway.stats.total.packets_in if gateway is not None else 0,
    }


def _dht_info(engine: NodeEngine) -> dict[str, Any]:
    """Per layer: ``cache`` (values stored here), ``packets_in``/``packets_out``; bytes each way."""
    from bitdust.services.service_entangled_dht import network_status_part

    status = network_status_part(engine)
    layers = {
        str(layer["layer_id"]): {
            "cache": layer["data_store_items"],
            "packets_in": layer["packets_received"],
            "packets_out": layer["packets_sent"],
        }
        for layer in status.get("layers", [])
    }
    return {"layers": layers, "bytes_out": status.get("bytes_sent", 0), "bytes_in": status.get("bytes_received", 0)}


@api_method("GET", "process/debug/v1", answers=(409,))
def process_debug(engine: NodeEngine) -> ApiResult:
    """Break into the Python debugger (pdb) in the engine's terminal.

    Only works when the engine runs in the foreground in a terminal (`bitdust run`); the
    engine stops answering until the debugger continues. Otherwise the call is refused.
    """
    if not engine.terminal or not sys.stdin.isatty():
        raise Conflict("process_debug needs an engine running in a terminal: start it with `bitdust run`")
    import pdb

    engine.reactor.callLater(0, pdb.set_trace)
    return ApiResult({"debugger": True}, message="debugger started in the engine's terminal")
