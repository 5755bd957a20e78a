"""API methods of the supplier side (service_supplier): this node's customers and the space it donates.

Field names are the original's (``customers_list`` rows ``{position, global_id, idurl,
contact_state}``; ``space_donated`` ``{customers_num, customers, consumed, donated, real, free,
used, ...}``). The figures add up: ``used + free == donated`` and the customers' ``used`` sum to
``used``; ``consumed`` is what is allocated, ``real`` what the customers' folders hold on disk
now (measured in the thread pool).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.interface.api.constraints import text
from bitdust.interface.api.spec import api_method
from bitdust.main.errors import NotFound
from bitdust.services.service_supplier import drop_customer, require_space, supplier_payload
from bitdust.supplier.customers_store import measure
from bitdust.userid.idurl import parse_user_ref

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine
    from bitdust.supplier.ledger import CustomerEntry
    from bitdust.supplier.space import SupplierSpace

_CUSTOMER = "IDURL or global id (name@host) of the customer"


def _contact_state(engine: NodeEngine, idurl: str) -> str:
    contacts = engine.p2p.contacts
    return contacts.state(idurl) if contacts is not None else "OFFLINE"


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "0.00%"


def _customer(engine: NodeEngine, space: SupplierSpace, customer_id: str) -> CustomerEntry:
    idurl = parse_user_ref(customer_id).url
    known = engine.identity_cache.get(idurl)
    for candidate in (idurl, known.idurl.url if known is not None else idurl):
        if space.is_customer(candidate):
            return space.get(candidate)
    raise NotFound(f"{customer_id} is not a customer of this node")


@api_method("GET", "customer/list/v1", params={"verbose": "add what is stored about each customer"}, answers=(503,))
def customers_list(engine: NodeEngine, verbose: bool = False) -> list[dict[str, Any]]:
    """This node's customers, oldest first: their family position and whether they are online."""
    space = require_space(engine)
    rows = []
    for entry in space.customers():
        row: dict[str, Any] = {
            "position": entry.position,
            "global_id": entry.global_id,
            "idurl": entry.idurl,
            "contact_state": _contact_state(engine, entry.idurl),
        }
        if verbose:
            row.update(supplier_payload(entry))
        rows.append(row)
    return rows


@api_method(
    "DELETE",
    "customer/reject/v1",
    params={"customer_id": _CUSTOMER},
    constraints={"customer_id": text()},
    answers=(404, 503),
)
def customer_reject(engine: NodeEngine, customer_id: str) -> defer.Deferred[dict[str, Any]]:
    """Drop a customer now: it is told (and replaces us), its data is removed, its space freed."""
    space = require_space(engine)
    entry = _customer(engine, space, customer_id)

    def dropped(gone: CustomerEntry) -> dict[str, Any]:
        return {"idurl": gone.idurl, "global_id": gone.global_id, "freed": gone.allocated, "removed": gone.used}

    return drop_customer(engine, entry.idurl, "rejected by the supplier", refuse=True).addCallback(dropped)


@api_method("POST", "customer/ping/v1", answers=(503,))
def customers_ping(engine: NodeEngine) -> defer.Deferred[list[dict[str, Any]]]:
    """Ping every customer (our Identity packet, answered by an Ack); one row per customer."""
    from bitdust.services.service_p2p_hookups import ping

    space = require_space(engine)
    engine.p2p.require_contacts()
    timeout = engine.config.get("services/gateway/p2p-timeout")
    pings = []
    for entry in space.customers():

        def answered(_ack: object, entry: CustomerEntry = entry) -> dict[str, Any]:
            return {"idurl": entry.idurl, "global_id": entry.global_id, "result": "connected"}

        def failed(failure: Failure, entry: CustomerEntry = entry) -> dict[str, Any]:
            return {
                "idurl": entry.idurl,
                "global_id": entry.global_id,
                "result": "failed",
                "reason": failure.getErrorMessage(),
            }

        pings.append(ping(engine, entry.idurl, timeout=timeout, retries=0).addCallbacks(answered, failed))
    return defer.gatherResults(pings)


@api_method("GET", "space/donated/v1", answers=(503,))
def space_donated(engine: NodeEngine) -> defer.Deferred[dict[str, Any]]:
    """The donated space: allocated (consumed), used, free, and each customer's share."""
    space = require_space(engine)
    entries = space.customers()
    folders = {entry.global_id for entry in entries}
    root = space.root

    def real_sizes() -> tuple[dict[str, int], dict[str, int]]:
        current = {name: measure(root / name) for name in folders}
        old = {}
        if root.is_dir():
            old = {p.name: measure(p) for p in root.iterdir() if p.is_dir() and p.name not in folders}
        return current, old

    def report(sizes: tuple[dict[str, int], dict[str, int]]) -> dict[str, Any]:
        current, old = sizes
        donated, used = space.ledger.donated, space.ledger.used
        consumed = space.ledger.allocated
        return {
            "customers_num": len(entries),
            "customers": [
                {
                    "idurl": entry.idurl,
                    "global_id": entry.global_id,
                    "used": entry.used,
                    "consumed": entry.allocated,
                    "real": current.get(entry.global_id, 0),
                }
                for entry in entries
            ],
            "old_customers": [{"global_id": name, "used": size, "real": size} for name, size in sorted(old.items())],
            "consumed": consumed,
            "donated": donated,
            "real": sum(current.values()),
            "free": donated - used,
            "used": used,
            "old_customers_used": sum(old.values()),
            "old_customers_real": sum(old.values()),
            "used_percent": _percent(used, donated),
            "consumed_percent": _percent(consumed, donated),
        }

    return engine.run_blocking(real_sizes).addCallback(report)


@api_method("GET", "space/local/v1", answers=(503,))
def space_local(engine: NodeEngine) -> defer.Deferred[dict[str, Any]]:
    """What this node's home holds on disk: the customers' data, temporary files, the disk itself."""
    space = require_space(engine)
    home = engine.paths.home
    temp = engine.paths.temp

    def sizes() -> dict[str, Any]:
        customers = measure(space.root)
        temporary = measure(temp)
        disk = shutil.disk_usage(home)
        return {
            "customers": customers,
            "temp": temporary,
            "total": customers + temporary,
            "donated": space.ledger.donated,
            "disk_total": disk.total,
            "disk_free": disk.free,
            "disk_used": disk.used,
        }

    return engine.run_blocking(sizes)
