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


@attrs.frozen
class Role:
    name: str
    prefix: str
    description: str
    extra_ports: tuple[str, ...] = ()
    engine_args: Callable[[object], list[str]] = _no_args

    def node_name(self, number: int) -> str:
        return f"{self.prefix}-{number}"


NODE = Role(name="node", prefix="node", description="a plain node with the default services")

ROLES: dict[str, Role] = {role.name: role for role in (NODE,)}


def role(name: str) -> Role:
    try:
        return ROLES[name]
    except KeyError:
        raise SandboxError(f"unknown sandbox role {name!r}; known: {', '.join(sorted(ROLES))}") from None
