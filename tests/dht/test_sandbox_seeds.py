"""The sandbox's DHT seeds, against the recording fake launcher (no processes)."""

from __future__ import annotations

import json

import pytest

from bitdust.sandbox.errors import SandboxError
from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.roles import DHT_SEED
from tests.sandbox.fakes import FakeClock, FakeLauncher


@pytest.fixture
def box(tmp_path) -> Sandbox:
    clock = FakeClock()
    return Sandbox(tmp_path / "net", launcher=FakeLauncher(), clock=clock, sleep=clock.sleep)


def option(home, key: str) -> str:
    return (home / "config" / key).read_text().strip()


def test_seeds_are_chained_and_every_node_bootstraps_from_all(box: Sandbox) -> None:
    current = box.up(2, id_servers=1, dht_seeds=3, bare=True)
    names = [n.name for n in current.nodes]
    assert names == ["id-a", "dht-1", "dht-2", "dht-3", "node-1", "node-2"]
    seeds = [n for n in current.nodes if n.role == DHT_SEED.name]
    ports = [s.extra["dht_port"] for s in seeds]
    plain = [n for n in current.nodes if n.role == "node"]
    every_port = ports + [n.extra["dht_port"] for n in plain] + [n.rest_port for n in current.nodes]
    assert len(set(every_port)) == len(every_port)
    assert [option(s.home, "services/entangled-dht/known-nodes") for s in seeds] == [
        "genesis",
        f"127.0.0.1:{ports[0]}",
        f"127.0.0.1:{ports[0]}, 127.0.0.1:{ports[1]}",
    ]
    for seed in seeds:
        assert option(seed.home, "services/entangled-dht/seed-mode") == "true"
        assert option(seed.home, "services/entangled-dht/udp-port") == str(seed.extra["dht_port"])
    for node in plain:
        assert option(node.home, "services/entangled-dht/udp-port") == str(node.extra["dht_port"])
        assert not (node.home / "config/services/entangled-dht/known-nodes").exists()
    for node in current.nodes:
        network = json.loads((node.home / "metadata/networkconfig.json").read_text())
        assert network["dht-seeds"] == [
            {"host": "127.0.0.1", "udp_port": port, "name": f"dht-{i}"} for i, port in enumerate(ports, start=1)
        ]
    server = current.nodes[0]
    assert option(server.home, "services/entangled-dht/enabled") == "false"


def test_no_seeds_by_default_in_the_python_api_and_negative_counts_refused(box: Sandbox) -> None:
    current = box.up(1)
    assert [n.name for n in current.nodes] == ["node-1"]
    network = json.loads((current.nodes[0].home / "metadata/networkconfig.json").read_text())
    assert network["dht-seeds"] == []
    box.down()
    with pytest.raises(SandboxError, match="DHT seeds"):
        box.up(1, dht_seeds=-1)


def test_the_cli_starts_three_seeds_by_default(tmp_path) -> None:
    from types import SimpleNamespace

    from click.testing import CliRunner

    from bitdust.interface.cli_sandbox import sandbox

    clock = FakeClock()

    def factory(directory):
        return Sandbox(directory, launcher=FakeLauncher(), clock=clock, sleep=clock.sleep)

    result = CliRunner().invoke(
        sandbox,
        ["up", "--nodes", "1", "--id-servers", "0", "--dir", str(tmp_path), "--json"],
        obj=SimpleNamespace(sandbox_factory=factory),
    )
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.stdout)["nodes"]
    assert [(n["name"], n["role"]) for n in nodes] == [
        ("dht-1", "dht-seed"),
        ("dht-2", "dht-seed"),
        ("dht-3", "dht-seed"),
        ("node-1", "node"),
    ]
    assert all(isinstance(n["dht_port"], int) for n in nodes)
