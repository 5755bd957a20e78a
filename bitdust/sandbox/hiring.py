"""Waiting until a sandbox customer has hired its family: ``make run`` says "ready" only then.

The customer's ``suppliers_list`` (``GET supplier/list/v1``) is polled until ``suppliers_number``
of its rows are ``CONNECTED``, or a deadline passes. An engine without that API method (an unknown
route, 404) cannot hire at all, so waiting would be pointless: that is reported at once.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any

import attrs

from bitdust.interface.client import ApiClient, EngineNotRunning
from bitdust.sandbox.state import NodeRecord

#: How long ``make run`` waits for the family (a fresh sandbox hires in a few seconds; the machine
#: may be slow and busy).
HIRE_TIMEOUT = 120.0
POLL_INTERVAL = 0.5
REQUEST_TIMEOUT = 5.0
SUPPLIERS_ROUTE = "supplier/list/v1"
CONNECTED = "CONNECTED"

#: One call of the API: (HTTP status, envelope); raises OSError/EngineNotRunning when unreachable.
Fetch = Callable[[NodeRecord, str], tuple[int, dict[str, Any]]]


class Hiring(enum.Enum):
    HIRED = "hired"
    NOT_AVAILABLE = "not available"
    TIMED_OUT = "timed out"


@attrs.frozen
class HiringResult:
    outcome: Hiring
    connected: int
    wanted: int
    #: why the last poll did not count the family whole (an error of the API), for the report
    detail: str = ""


def fetch(record: NodeRecord, path: str) -> tuple[int, dict[str, Any]]:
    """GET ``path`` on the node's REST API with its secret."""
    with ApiClient(record.home, port=record.rest_port, timeout=REQUEST_TIMEOUT) as client:
        return client.request("GET", path)


def connected_suppliers(envelope: dict[str, Any]) -> int:
    """How many rows of a ``suppliers_list`` result are CONNECTED (a malformed result counts 0)."""
    rows = envelope.get("result")
    if not isinstance(rows, list):
        return 0
    return sum(1 for row in rows if isinstance(row, dict) and row.get("supplier_state") == CONNECTED)


def is_unknown_route(status: int, envelope: dict[str, Any]) -> bool:
    """A 404 for the route itself, not a NotFound the method raised."""
    errors = envelope.get("errors")
    return status == 404 and isinstance(errors, list) and any(str(e).startswith("unknown route") for e in errors)


def wait_hired(
    record: NodeRecord,
    wanted: int,
    *,
    timeout: float = HIRE_TIMEOUT,
    fetch: Fetch = fetch,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stopped: Callable[[], bool] = lambda: False,
) -> HiringResult:
    """Poll the customer until ``wanted`` suppliers are CONNECTED, the route proves missing, the
    deadline passes or ``stopped()`` (Ctrl-C) says to give up."""
    deadline = clock() + timeout
    connected, detail = 0, ""
    while True:
        try:
            status, envelope = fetch(record, SUPPLIERS_ROUTE)
        except (EngineNotRunning, OSError, ValueError) as exc:
            detail = f"{record.name} does not answer: {exc}"
        else:
            if is_unknown_route(status, envelope):
                return HiringResult(Hiring.NOT_AVAILABLE, 0, wanted)
            if status == 200:
                connected = connected_suppliers(envelope)
                detail = ""
                if connected >= wanted:
                    return HiringResult(Hiring.HIRED, connected, wanted)
            else:
                detail = "; ".join(map(str, envelope.get("errors") or [])) or f"HTTP {status}"
        if stopped() or clock() >= deadline:
            return HiringResult(Hiring.TIMED_OUT, connected, wanted, detail)
        sleep(POLL_INTERVAL)
