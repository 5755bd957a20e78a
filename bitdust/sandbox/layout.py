"""How a local network is laid out: names, homes and free ports of its nodes, and what each home holds.

Shared by the multi-process sandbox (:mod:`bitdust.sandbox.network`) and the in-process test
network (:mod:`bitdust.testing.network`), so both build the same network: identity servers
``id-a, id-b, ...``, DHT seeds ``dht-1, ...`` chained to one another, plain nodes ``node-1, ...``
that join through every seed, each home with the network config listing them all. A sandbox with suppliers starts ``supplier-1, ...`` after the
seeds, and its plain nodes are customers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bitdust.main.process.fileutil import atomic_write
from bitdust.sandbox.ports import free_ports, port_is_free
from bitdust.sandbox.roles import DHT_SEED, ID_SERVER, NODE, SUPPLIER, Role, role
from bitdust.sandbox.state import NodeRecord, SandboxState

#: ``services/identity-propagate/min-servers`` of a node in a sandbox with enough identity servers
MIN_SERVERS_DEFAULT = 2


def sandbox_layout(
    id_servers: int, dht_seeds: int, nodes: int, suppliers: int = 0, plain_role: str = NODE.name
) -> list[tuple[str, int]]:
    """The roles in start order: identity servers and seeds first, so nodes find them up, then
    the suppliers, so customers find them on DHT layer 3; ``plain_role`` names the plain nodes."""
    layout = [(ID_SERVER.name, id_servers), (DHT_SEED.name, dht_seeds)]
    if suppliers:
        layout.append((SUPPLIER.name, suppliers))
    return layout + [(plain_role, nodes)]


def plan_nodes(
    directory: Path,
    layout: Iterable[tuple[str, int]],
    previous: SandboxState | None = None,
    extras: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[NodeRecord]:
    """Names, homes under ``directory`` and distinct free ports; a node of a previous sandbox keeps
    its ports when they are still free (so a restarted sandbox keeps its addresses).

    ``extras`` (role name -> fields) are the role's sandbox-wide settings recorded on each of its
    nodes (a supplier's donated space); they replace what a previous sandbox recorded.
    """
    old = {r.name: r for r in previous.nodes} if previous else {}
    used: set[int] = set()
    records = []
    for role_name, count in layout:
        kind = role(role_name)
        for number in range(1, count + 1):
            name = kind.node_name(number)
            before = old.get(name)
            wanted = 2 + len(kind.extra_ports)
            # the home is the name's, whatever role it had: a node-1 that was a plain node and is
            # now a customer keeps its ports too
            if before is not None and _ports_reusable(before, used, kind):
                ports = [before.rest_port, before.ws_port] + [before.extra[p] for p in kind.extra_ports]
            else:
                ports = free_ports(wanted, exclude=used)
            used.update(ports)
            # what a node recorded under another role (a customer's family size) does not follow it
            extra = dict(before.extra) if before is not None and before.role == role_name else {}
            extra.update(zip(kind.extra_ports, ports[2:], strict=True))
            extra.update((extras or {}).get(role_name, {}))
            records.append(
                NodeRecord(
                    name=name,
                    role=role_name,
                    home=Path(directory) / name,
                    rest_port=ports[0],
                    ws_port=ports[1],
                    pid=None,
                    extra=extra,
                )
            )
    return records


def _ports_reusable(record: NodeRecord, used: set[int], kind: Role) -> bool:
    try:
        ports = [record.rest_port, record.ws_port] + [int(record.extra[p]) for p in kind.extra_ports]
    except (KeyError, TypeError, ValueError):
        return False
    return len(set(ports)) == len(ports) and not used.intersection(ports) and all(map(port_is_free, ports))


def write_options(home: Path, options: Mapping[str, str]) -> None:
    """Config options (key -> text as stored in the option file) written before the node starts."""
    for key, text in options.items():
        atomic_write(Path(home) / "config" / key, text + "\n", mode=0o600)


def prepare_homes(records: list[NodeRecord]) -> None:
    """Write each role's config options and the network config into every home before start."""
    servers = [
        {"host": "127.0.0.1", "http_port": int(r.extra["id_port"]), "name": r.name}
        for r in records
        if r.role == ID_SERVER.name
    ]
    seeds = [
        {"host": "127.0.0.1", "udp_port": int(r.extra["dht_port"]), "name": r.name}
        for r in records
        if r.role == DHT_SEED.name
    ]
    network = json.dumps({"identity-servers": servers, "dht-seeds": seeds}, indent=2) + "\n"
    for record in records:
        atomic_write(record.home / "metadata" / "networkconfig.json", network)
        options = role(record.role).options(record)
        if role(record.role).has_identity and servers:
            # a new identity is registered on every identity server of a small network (the
            # default asks for two, which a one-server sandbox could never give it)
            options["services/identity-propagate/min-servers"] = str(min(len(servers), MIN_SERVERS_DEFAULT))
        if record.role == DHT_SEED.name:
            # chained as in a real network: the first seed is the genesis, each later one joins those before it
            earlier = [f"{s['host']}:{s['udp_port']}" for s in seeds[: [s["name"] for s in seeds].index(record.name)]]
            options["services/entangled-dht/known-nodes"] = ", ".join(earlier) or "genesis"
        write_options(record.home, options)
