"""What kinds of node a sandbox can run.

A role names the node (``node-1``), says which extra ports it needs beyond the two API ports and
which extra arguments its engine gets. Today there are only plain nodes; identity servers, DHT
seeds and the rest add an entry here (and their fields to the node's record) when they exist.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from bitdust.sandbox.errors import SandboxError


def _no_args(_record: object) -> list[str]:
    return []


def _no_options(_record: object) -> dict[str, str]:
    return {}


def _id_server_options(record: object) -> dict[str, str]:
    """Config files written into an identity server's home before its first start."""
    port = record.extra["id_port"]  # type: ignore[attr-defined]
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
    engine_args: Callable[[object], list[str]] = _no_args
    #: config options (key -> text as stored in the option file) set before the node starts
    options: Callable[[object], dict[str, str]] = _no_options
    #: named id-a, id-b, ... instead of node-1, node-2, ...
    lettered: bool = False

    def node_name(self, number: int) -> str:
        if self.lettered:
            letters = ""
            while number > 0:
                number, rest = divmod(number - 1, 26)
                letters = chr(ord("a") + rest) + letters
            return f"{self.prefix}-{letters}"
        return f"{self.prefix}-{number}"


def _node_options(record: object) -> dict[str, str]:
    """A plain node listens for peers on its own TCP port, on loopback only."""
    return {
        "services/tcp-connections/tcp-port": str(record.extra["tcp_port"]),  # type: ignore[attr-defined]
        "services/tcp-connections/interface": "127.0.0.1",
        "services/entangled-dht/udp-port": str(record.extra["dht_port"]),  # type: ignore[attr-defined]
        "services/entangled-dht/interface": "127.0.0.1",
    }


def _dht_seed_options(record: object) -> dict[str, str]:
    """A DHT seed: no identity, routes every layer on its own UDP port (joining the earlier seeds
    is written by ``prepare_homes``, which knows them all)."""
    return {
        "services/entangled-dht/udp-port": str(record.extra["dht_port"]),  # type: ignore[attr-defined]
        "services/entangled-dht/seed-mode": "true",
        "services/entangled-dht/interface": "127.0.0.1",
        # a seed has no identity and talks to nobody over TCP
        "services/tcp-connections/enabled": "false",
    }


NODE = Role(
    name="node",
    prefix="node",
    description="a plain node with the default services",
    extra_ports=("tcp_port", "dht_port"),
    options=_node_options,
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

ROLES: dict[str, Role] = {role.name: role for role in (NODE, ID_SERVER, DHT_SEED)}


def role(name: str) -> Role:
    try:
        return ROLES[name]
    except KeyError:
        raise SandboxError(f"unknown sandbox role {name!r}; known: {', '.join(sorted(ROLES))}") from None
