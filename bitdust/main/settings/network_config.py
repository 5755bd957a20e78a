"""The network config: which identity servers and DHT seeds this node's network has.

A JSON file, by default ``metadata/networkconfig.json`` of the home folder (the sandbox writes
one into every node's home), or the file named by the option ``services/network/network-config``::

    {"identity-servers": [{"host": "127.0.0.1", "http_port": 8084, "name": "id-a"}],
     "dht-seeds": [{"host": "127.0.0.1", "udp_port": 14441, "name": "dht-1"}]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from bitdust.main.errors import InvalidInput

MAX_NETWORK_CONFIG = 256 * 1024


@attrs.frozen
class IdServerAddress:
    host: str
    http_port: int
    name: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.http_port}"


@attrs.frozen
class NetworkConfig:
    identity_servers: tuple[IdServerAddress, ...] = ()
    dht_seeds: tuple[dict[str, Any], ...] = ()
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "identity-servers": [attrs.asdict(s) for s in self.identity_servers],
            "dht-seeds": list(self.dht_seeds),
        }


def parse_server_address(text: str) -> IdServerAddress:
    """``host:port`` (as in ``preferred_servers``) -> an identity server address."""
    host, sep, port = str(text).strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"bad identity server address {text!r}: expected host:port")
    return IdServerAddress(host=host.lower(), http_port=int(port))


def _server(item: Any, where: str) -> IdServerAddress:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object")
    host, port = item.get("host"), item.get("http_port")
    if not isinstance(host, str) or not host or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"{where}: needs a host and an http_port")
    name = item.get("name", "")
    return IdServerAddress(host=host.lower(), http_port=port, name=name if isinstance(name, str) else "")


def load_network_config(path: Path) -> NetworkConfig:
    """Read and check the file; a missing file is an empty network (nothing to register on)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return NetworkConfig(source=str(path))
    if len(raw) > MAX_NETWORK_CONFIG:
        raise InvalidInput(f"network config {path} is too large")
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        servers = data.get("identity-servers", [])
        seeds = data.get("dht-seeds", [])
        if not isinstance(servers, list) or not isinstance(seeds, list):
            raise ValueError("identity-servers and dht-seeds must be lists")
        parsed = tuple(_server(item, f"identity-servers[{i}]") for i, item in enumerate(servers))
        if not all(isinstance(seed, dict) for seed in seeds):
            raise ValueError("dht-seeds entries must be objects")
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise InvalidInput(f"bad network config {path}: {exc}") from None
    return NetworkConfig(identity_servers=parsed, dht_seeds=tuple(seeds), source=str(path))
