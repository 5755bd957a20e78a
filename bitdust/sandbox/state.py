"""The sandbox's record of its nodes: ``sandbox.json`` in the sandbox folder.

One JSON object ``{"dir": ..., "created": ..., "nodes": [...]}``; each node is
``{"name", "role", "pid", "rest_port", "ws_port", "home", ...}``. Roles added later keep their own
fields (an identity server's HTTP port, a DHT seed's UDP port) in the same object; they survive a
load/save round trip untouched.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from bitdust.main.process.fileutil import atomic_write
from bitdust.sandbox.errors import SandboxError, SandboxNotFound

STATE_FILE = "sandbox.json"
DIR_ENV = "BITDUST_SANDBOX_DIR"
FORMAT_VERSION = 1

_CORE_FIELDS = ("name", "role", "pid", "rest_port", "ws_port", "home")


def default_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """An explicit folder wins, then ``$BITDUST_SANDBOX_DIR``, then ``~/.bitdust-sandbox``."""
    if directory:
        return Path(directory).expanduser().absolute()
    env = os.environ.get(DIR_ENV)
    if env:
        return Path(env).expanduser().absolute()
    return Path.home() / ".bitdust-sandbox"


@attrs.frozen
class NodeRecord:
    """One node of the sandbox as recorded on disk."""

    name: str
    role: str
    home: Path = attrs.field(converter=Path)
    rest_port: int
    ws_port: int
    pid: int | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            "pid": self.pid,
            "rest_port": self.rest_port,
            "ws_port": self.ws_port,
            "home": str(self.home),
        }
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeRecord:
        try:
            return cls(
                name=str(data["name"]),
                role=str(data["role"]),
                home=Path(data["home"]),
                rest_port=int(data["rest_port"]),
                ws_port=int(data["ws_port"]),
                pid=int(data["pid"]) if data.get("pid") else None,
                extra={k: v for k, v in data.items() if k not in _CORE_FIELDS},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SandboxError(f"malformed node entry in {STATE_FILE}: {data!r}") from exc

    def with_pid(self, pid: int | None) -> NodeRecord:
        return attrs.evolve(self, pid=pid)


def _node_tuple(nodes: Iterable[NodeRecord]) -> tuple[NodeRecord, ...]:
    """The nodes as a tuple, so the state stays immutable whatever sequence it was built from."""
    return tuple(nodes)


@attrs.frozen
class SandboxState:
    """Everything ``sandbox.json`` holds."""

    directory: Path = attrs.field(converter=Path)
    nodes: tuple[NodeRecord, ...] = attrs.field(converter=_node_tuple, factory=tuple)
    created: float = attrs.field(factory=time.time)

    def node(self, name: str) -> NodeRecord:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes) or "none"
        raise SandboxError(f"no node named {name!r} in the sandbox at {self.directory} (nodes: {known})")

    def replace_node(self, record: NodeRecord) -> SandboxState:
        self.node(record.name)
        nodes = tuple(record if n.name == record.name else n for n in self.nodes)
        return attrs.evolve(self, nodes=nodes)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "dir": str(self.directory),
            "created": self.created,
            "nodes": [node.to_json() for node in self.nodes],
        }


def state_path(directory: Path) -> Path:
    return Path(directory) / STATE_FILE


def load(directory: Path) -> SandboxState:
    """Read ``sandbox.json``; :class:`SandboxNotFound` when the folder has none."""
    path = state_path(directory)
    try:
        raw = path.read_text()
    except FileNotFoundError:
        raise SandboxNotFound(f"no sandbox in {directory} ({STATE_FILE} not found)") from None
    try:
        data = json.loads(raw)
        nodes = [NodeRecord.from_json(item) for item in data["nodes"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SandboxError(f"{path} is not a valid sandbox file: {exc}") from exc
    return SandboxState(directory=Path(directory), nodes=nodes, created=float(data.get("created") or 0.0))


def load_or_none(directory: Path) -> SandboxState | None:
    try:
        return load(directory)
    except SandboxNotFound:
        return None


def save(state: SandboxState) -> None:
    """Write ``sandbox.json`` atomically (temporary file, fsync, rename)."""
    atomic_write(state_path(state.directory), json.dumps(state.to_json(), indent=2) + "\n")
