"""What kinds of node a sandbox can run.

A role names the node (``node-1``), says which extra ports it needs beyond the two API ports and
which extra arguments its engine gets. Identity servers, DHT seeds, plain nodes, suppliers (plain
nodes that donate space) and customers (the plain nodes of a sandbox with suppliers, which hire
them) are the roles today. A role's settings that are the same for the whole sandbox (the donated
space, the family size) travel in the node's record (``extra``), so ``sandbox.json`` shows them.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from bitdust.main.settings.config_types import Size
from bitdust.sandbox.errors import SandboxError
from bitdust.sandbox.state import NodeRecord

#: How soon a sandbox customer asks the DHT again when it found too few suppliers: its suppliers
#: start together with it and attach DHT layer 3 over the first seconds, so the option's default
#: (a minute, right for a real network) would keep a fresh sandbox's family half hired that long.
HIRE_RETRY_SECONDS = 3


def _no_args(_record: NodeRecord) -> list[str]:
    return []


def _no_options(_record: NodeRecord) -> dict[str, str]:
    return {}


def _id_server_options(record: NodeRecord) -> dict[str, str]:
    """Config files written into an identity server's home before its first start."""
    port = record.extra["id_port"]
    return {
        "services/identity-server/enabled": "true",
        "services/identity-server/web-port": str(port),
        "services/identity-server/host": "127.0.0.1",
        # identity servers stay out of the sandbox's DHT and peer traffic (and off the default ports)
        "services/entangled-dht/enabled": "false",
        "services/tcp-connections/enabled": "false",
    }


@attrs.frozen
class Role:
    name: str
    prefix: str
    description: str
    extra_ports: tuple[str, ...] = ()
    engine_args: Callable[[NodeRecord], list[str]] = _no_args
    #: config options (key -> text as stored in the option file) set before the node starts
    options: Callable[[NodeRecord], dict[str, str]] = _no_options
    #: named id-a, id-b, ... instead of node-1, node-2, ...
    lettered: bool = False
    #: gets an identity (registered on the identity servers) once it answers, unless ``bare``
    has_identity: bool = False

    def node_name(self, number: int) -> str:
        if self.lettered:
            letters = ""
            while number > 0:
                number, rest = divmod(number - 1, 26)
                letters = chr(ord("a") + rest) + letters
            return f"{self.prefix}-{letters}"
        return f"{self.prefix}-{number}"


def _node_options(record: NodeRecord) -> dict[str, str]:
    """A plain node listens for peers on its own TCP port, on loopback only."""
    return {
        "services/tcp-connections/tcp-port": str(record.extra["tcp_port"]),
        "services/tcp-connections/interface": "127.0.0.1",
        "services/entangled-dht/udp-port": str(record.extra["dht_port"]),
        "services/entangled-dht/interface": "127.0.0.1",
    }


def _dht_seed_options(record: NodeRecord) -> dict[str, str]:
    """A DHT seed: no identity, routes every layer on its own UDP port (joining the earlier seeds
    is written by ``prepare_homes``, which knows them all)."""
    return {
        "services/entangled-dht/udp-port": str(record.extra["dht_port"]),
        "services/entangled-dht/seed-mode": "true",
        "services/entangled-dht/interface": "127.0.0.1",
        # a seed has no identity and talks to nobody over TCP
        "services/tcp-connections/enabled": "false",
    }


def _supplier_options(record: NodeRecord) -> dict[str, str]:
    """A supplier: a plain node with ``service_supplier`` on and the sandbox's donated space."""
    options = _node_options(record)
    options["services/supplier/enabled"] = "true"
    options["services/supplier/donated-space"] = Size().serialize(int(record.extra["donated_space"]))
    return options


def _customer_options(record: NodeRecord) -> dict[str, str]:
    """A customer: a plain node with ``service_customer`` on, hiring a family of the sandbox's size.

    Written as option files, which an engine that does not know an option yet (no
    ``service_customer``) simply never reads: the node then runs as a plain node.
    """
    extra = record.extra
    options = _node_options(record)
    options["services/customer/enabled"] = "true"
    options["services/customer/suppliers-number"] = str(int(extra["suppliers_number"]))
    options["services/customer/needed-space"] = Size().serialize(int(extra["needed_space"]))
    options["services/employer/hire-retry-seconds"] = str(HIRE_RETRY_SECONDS)
    return options


NODE = Role(
    name="node",
    prefix="node",
    description="a plain node with the default services",
    extra_ports=("tcp_port", "dht_port"),
    options=_node_options,
    has_identity=True,
)
SUPPLIER = Role(
    name="supplier",
    prefix="supplier",
    description="a plain node that donates space (service_supplier on, attached to DHT layer 3)",
    extra_ports=("tcp_port", "dht_port"),
    options=_supplier_options,
    has_identity=True,
)
CUSTOMER = Role(
    name="customer",
    prefix="node",
    description="a plain node of a sandbox with suppliers: service_customer hires its family from them",
    extra_ports=("tcp_port", "dht_port"),
    options=_customer_options,
    has_identity=True,
)
ID_SERVER = Role(
    name="id-server",
    prefix="id",
    description="an identity server (service_identity_server on its own HTTP port)",
    extra_ports=("id_port",),
    options=_id_server_options,
    lettered=True,
)

DHT_SEED = Role(
    name="dht-seed",
    prefix="dht",
    description="a DHT seed (service_entangled_dht in seed mode, no identity); later seeds join the earlier ones",
    extra_ports=("dht_port",),
    options=_dht_seed_options,
)

ROLES: dict[str, Role] = {role.name: role for role in (NODE, ID_SERVER, DHT_SEED, SUPPLIER, CUSTOMER)}


def role(name: str) -> Role:
    try:
        return ROLES[name]
    except KeyError:
        raise SandboxError(f"unknown sandbox role {name!r}; known: {', '.join(sorted(ROLES))}") from None
