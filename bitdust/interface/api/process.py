"""API methods about the engine process itself."""

from __future__ import annotations

import os
import resource
import sys
from typing import Any

from bitdust.interface.api.spec import ApiResult, api_method
from bitdust.main.errors import Conflict


def _rss_bytes() -> int:
    """Resident memory now; ``/proc`` where it exists, else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


@api_method("GET", "process/stop/v1")
def process_stop(engine: Any) -> ApiResult:
    """Stop the engine process.

    Services stop first, then the API servers; the process exits and its pid file is removed.
    The answer is sent before the API closes.
    """
    engine.reactor.callLater(0, engine.stop)
    return ApiResult({"stopping": True, "pid": engine.pid}, message="engine is stopping")


@api_method("GET", "process/restart/v1")
def process_restart(engine: Any) -> ApiResult:
    """Restart the engine process.

    The engine shuts down in order and a new process (with a new pid) starts on the same home
    folder; poll `process_health` until it answers again.
    """
    engine.reactor.callLater(0, engine.stop, True)
    return ApiResult({"restarting": True, "pid": engine.pid}, message="engine is restarting")


@api_method("GET", "process/health/v1")
def process_health(engine: Any) -> dict[str, Any]:
    """Positive answer while the engine runs; meant for health checks."""
    return {"alive": True, "state": engine.state}


@api_method("GET", "process/info/v1")
def process_info(engine: Any) -> dict[str, Any]:
    """Overall information about the engine process, for monitoring."""
    services = engine.services.list()
    return {
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
        "service": {
            "active": sum(1 for s in services if s["state"] == "ON"),
            "total": len(services),
        },
        "automats": {"active": len(engine.automats.list())},
        "identity": _identity_info(engine),
        "event": {"consumers": len(engine.events.consumers())},
    }


def _identity_info(engine: Any) -> dict[str, Any]:
    local = getattr(engine, "local_identity", None)
    current = local.current if local is not None else None
    cache = getattr(engine, "identity_cache", None)
    return {
        "ready": current is not None,
        "global_id": current.global_id if current is not None else None,
        "idurl": current.idurl.url if current is not None else None,
        "cache": len(cache) if cache is not None else 0,
    }


@api_method("GET", "process/debug/v1", answers=(409,))
def process_debug(engine: Any) -> ApiResult:
    """Break into the Python debugger (pdb) in the engine's terminal.

    Only works when the engine runs in the foreground in a terminal (`bitdust run`); the
    engine stops answering until the debugger continues. Otherwise the call is refused.
    """
    if not engine.terminal or not sys.stdin.isatty():
        raise Conflict("process_debug needs an engine running in a terminal: start it with `bitdust run`")
    import pdb

    engine.reactor.callLater(0, pdb.set_trace)
    return ApiResult({"debugger": True}, message="debugger started in the engine's terminal")
