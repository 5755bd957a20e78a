"""API methods of the customer side (service_customer): this node's family of suppliers.

Field names are the original's (ORIGINAL-REFERENCE.md 4.4): ``suppliers_list`` rows
``{position, idurl, global_id, supplier_state, connected, contact_state}``; ``space_consumed``
``{suppliers_num, needed, used, available, needed_per_supplier, ...}``. The ``suppliers`` and
``customers`` sections of ``network_status`` and the suppliers' figures of ``process_info`` are
built here too, so the three answers agree.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.customer.options import NEEDED_SPACE_KEY, SUPPLIERS_NUMBER_KEY
from bitdust.interface.api.constraints import text
from bitdust.interface.api.spec import api_method
from bitdust.main.errors import InvalidInput, NotFound
from bitdust.raid.eccmap import eccmap
from bitdust.services.service_customer import require_fire_hire
from bitdust.userid.idurl import IdUrl, parse_user_ref

if TYPE_CHECKING:
    from bitdust.customer.fire_hire import FireHire
    from bitdust.node.engine import NodeEngine
    from bitdust.supplier.space import SupplierSpace

_SUPPLIER = "IDURL or global id (name@host) of a node"


def _contact_state(engine: NodeEngine, idurl: str) -> str:
    contacts = engine.p2p.contacts
    return contacts.state(idurl) if contacts is not None else "OFFLINE"


def _global_id(idurl: str) -> str:
    try:
        return IdUrl.parse(idurl).global_id
    except (InvalidInput, ValueError):
        return ""


def _idurl(engine: NodeEngine, ref: str, parameter: str) -> str:
    """The IDURL of ``ref`` (an IDURL or name@host) as the identity cache knows it; 400 when unparsable."""
    try:
        parsed = parse_user_ref(ref)
    except InvalidInput as exc:
        raise InvalidInput(f"{parameter}: {exc.message}", parameter=parameter) from None
    return engine.identity_cache.resolve(parsed).url


def _own_suppliers(engine: NodeEngine, customer_id: str | None) -> FireHire:
    fire_hire = require_fire_hire(engine)
    if customer_id not in (None, "") and _idurl(engine, customer_id, "customer_id") != fire_hire.own_id:
        raise NotFound(f"{customer_id} is not this node: only this node's own suppliers are known here")
    return fire_hire


def supplier_rows(engine: NodeEngine, fire_hire: FireHire, *, verbose: bool = False) -> list[dict[str, Any]]:
    rows = []
    for position, idurl in enumerate(fire_hire.positions):
        connector = fire_hire.connectors.get(idurl) if idurl is not None else None
        row: dict[str, Any] = {
            "position": position,
            "idurl": idurl or "",
            "global_id": _global_id(idurl) if idurl else "",
            "supplier_state": connector.state if connector is not None else None,
            "connected": connector is not None and connector.state == "CONNECTED",
            "contact_state": _contact_state(engine, idurl) if idurl else None,
        }
        if verbose:
            row["contract"] = {
                "allocated_bytes": connector.allocated_bytes if connector is not None else None,
                "ecc_map": fire_hire.family().ecc_map,
                "problem": connector.problem if connector is not None else None,
            }
        rows.append(row)
    return rows


@api_method(
    "GET",
    "supplier/list/v1",
    params={"customer_id": "the customer (IDURL or name@host); default: this node", "verbose": "add the contract"},
    answers=(404, 503),
)
def suppliers_list(engine: NodeEngine, customer_id: str | None = None, verbose: bool = False) -> list[dict[str, Any]]:
    """Our suppliers by position: who, the connector's state, and whether the contact is online."""
    return supplier_rows(engine, _own_suppliers(engine, customer_id), verbose=verbose)


@api_method(
    "POST",
    "supplier/change/v1",
    params={
        "position": "the family position to give to someone else",
        "supplier_id": "the supplier to replace (instead of its position)",
        "new_supplier_id": "whom to hire there; default: whoever the finder offers",
    },
    constraints={"supplier_id": text(), "new_supplier_id": text()},
    answers=(503,),
)
def supplier_change(
    engine: NodeEngine, position: int | None = None, supplier_id: str | None = None, new_supplier_id: str | None = None
) -> dict[str, Any]:
    """Replace the supplier at ``position`` (or ``supplier_id``), with ``new_supplier_id`` when given.

    A position that does not exist, a supplier not in the family, and a ``new_supplier_id`` that is
    this node, already in the family, unknown or offline are a 400 with the reason, changing nothing.
    """
    fire_hire = require_fire_hire(engine)
    if position is None and supplier_id is None:
        raise InvalidInput("give the position or the supplier_id of the supplier to change", parameter="position")
    if supplier_id is not None:
        idurl = _idurl(engine, supplier_id, "supplier_id")
        if idurl not in fire_hire.positions:
            raise InvalidInput(f"supplier_id {supplier_id} is not a supplier of this node", parameter="supplier_id")
        found = fire_hire.positions.index(idurl)
        if position is not None and position != found:
            raise InvalidInput(
                f"supplier_id {supplier_id} is at position {found}, not {position}", parameter="position"
            )
        position = found
    assert position is not None
    new_idurl = _idurl(engine, new_supplier_id, "new_supplier_id") if new_supplier_id is not None else None
    old = fire_hire.positions[position] if 0 <= position < len(fire_hire.positions) else None
    fire_hire.supplier_change(position, new_idurl)
    return {"position": position, "old_idurl": old or "", "new_idurl": new_idurl}


@api_method("POST", "supplier/ping/v1", answers=(503,))
def suppliers_ping(engine: NodeEngine) -> defer.Deferred[list[dict[str, Any]]]:
    """Ping every supplier of ours (our Identity packet, answered by an Ack); one row per supplier."""
    from bitdust.services.service_p2p_hookups import ping

    fire_hire = require_fire_hire(engine)
    engine.p2p.require_contacts()
    timeout = engine.config.get("services/gateway/p2p-timeout")
    pings = []
    for position, idurl in enumerate(fire_hire.positions):
        if idurl is None:
            continue

        def answered(_ack: object, position: int = position, idurl: str = idurl) -> dict[str, Any]:
            return {"position": position, "idurl": idurl, "global_id": _global_id(idurl), "result": "connected"}

        def failed(failure: Failure, position: int = position, idurl: str = idurl) -> dict[str, Any]:
            return {
                "position": position,
                "idurl": idurl,
                "global_id": _global_id(idurl),
                "result": "failed",
                "reason": failure.getErrorMessage(),
            }

        pings.append(ping(engine, idurl, timeout=timeout, retries=0).addCallbacks(answered, failed))
    return defer.gatherResults(pings)


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "0.00%"


_CATALOG_NAMES = {
    "items": "my_catalog_items",
    "files": "my_files",
    "folders": "my_folders",
    "files_size": "my_files_size",
    "folders_size": "my_folders_size",
    "backups_size": "my_backups_size",
}
_SHARED = (
    "shared_catalog_items",
    "shared_files",
    "shared_folders",
    "shared_files_size",
    "shared_folders_size",
    "shared_backups_size",
    "shared_keys",
)


@api_method("GET", "space/consumed/v1", answers=(503,))
def space_consumed(engine: NodeEngine) -> defer.Deferred[dict[str, Any]]:
    """The space our family gives us: what we ask for (``needed``), what the connected suppliers
    allocated (``available``, counted only while every position is served) and what our catalog's
    ready versions take (``used``; 0 while service_backup_db is off). Shares do not exist yet: 0."""
    fire_hire = require_fire_hire(engine)
    suppliers_num = len(fire_hire.positions)
    needed = int(engine.config.get(NEEDED_SPACE_KEY))
    required = eccmap(fire_hire.family().ecc_map).required if suppliers_num else 1
    allocations = []
    for idurl in fire_hire.positions:
        connector = fire_hire.connectors.get(idurl) if idurl is not None else None
        if connector is not None and connector.state == "CONNECTED" and connector.allocated_bytes is not None:
            allocations.append(connector.allocated_bytes)
    available_per_supplier = min(allocations) if allocations and len(allocations) == suppliers_num else 0

    def answer(totals: dict[str, int]) -> dict[str, Any]:
        used = int(totals.get("backups_size", 0))
        result: dict[str, Any] = {
            "suppliers_num": suppliers_num,
            "needed": needed,
            "used": used,
            "available": available_per_supplier * required,
            "needed_per_supplier": math.ceil(needed / required),
            "used_per_supplier": math.ceil(used / required),
            "available_per_supplier": available_per_supplier,
            "used_percent": _percent(used, needed),
            **{name: int(totals.get(key, 0)) for key, name in _CATALOG_NAMES.items()},
            "my_keys": len(engine.keys),
            **dict.fromkeys(_SHARED, 0),
        }
        return result

    catalog = engine.catalog
    if catalog is None or not engine.services.is_on("service_backup_db"):
        return defer.succeed(answer({}))
    return engine.run_blocking(catalog.totals).addCallback(answer)


# -- the sections other answers carry ------------------------------------------------------------


def suppliers_section(engine: NodeEngine) -> dict[str, Any]:
    """``network_status``'s ``suppliers``: ``{desired, requested, connected, total, peers: [{idurl,
    global_id, state}]}`` (``requested``: positions with a supplier asked or serving)."""
    fire_hire = engine.fire_hire
    if fire_hire is None or fire_hire.destroyed:
        return {"active": False, "reason": "service_customer is not running"}
    rows = supplier_rows(engine, fire_hire)
    return {
        "desired": int(engine.config.get(SUPPLIERS_NUMBER_KEY)),
        "requested": sum(1 for row in rows if row["idurl"]),
        "connected": sum(1 for row in rows if row["connected"]),
        "total": len(rows),
        "peers": [{"idurl": r["idurl"], "global_id": r["global_id"], "state": r["supplier_state"]} for r in rows],
    }


def customers_section(engine: NodeEngine) -> dict[str, Any]:
    """``network_status``'s ``customers``: ``{connected, total, peers: [{idurl, global_id, state}]}``
    (``state``: the customer's contact state)."""
    space = engine.supplier
    if space is None:
        return {"active": False, "reason": "service_supplier is not running"}
    peers = [
        {"idurl": entry.idurl, "global_id": entry.global_id, "state": _contact_state(engine, entry.idurl)}
        for entry in space.customers()
    ]
    return {"connected": sum(1 for p in peers if p["state"] == "CONNECTED"), "total": len(peers), "peers": peers}


def contact_counts(engine: NodeEngine) -> dict[str, int]:
    """``process_info``'s ``contact`` figures of the family: customers, suppliers hired (a supplier
    at a position), total (positions), active (CONNECTED); 0 on an engine without these parts."""
    space: SupplierSpace | None = getattr(engine, "supplier", None)
    fire_hire: FireHire | None = getattr(engine, "fire_hire", None)
    rows = supplier_rows(engine, fire_hire) if fire_hire is not None and not fire_hire.destroyed else []
    return {
        "customers": len(space.customers()) if space is not None else 0,
        "suppliers_hired": sum(1 for row in rows if row["idurl"]),
        "suppliers_total": len(rows),
        "suppliers_active": sum(1 for row in rows if row["connected"]),
    }
