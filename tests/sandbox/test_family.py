"""The sandbox's suppliers and customers: the family plan, the roles' option files, the CLI options."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from bitdust.customer.options import customer_options
from bitdust.interface.cli_sandbox import sandbox
from bitdust.main.settings.config import Config
from bitdust.main.settings.config_types import Size
from bitdust.sandbox import state
from bitdust.sandbox.errors import SandboxError
from bitdust.sandbox.family import (
    DEFAULT_DONATED_SPACE,
    DEFAULT_NEEDED_SPACE,
    MB,
    default_suppliers_number,
    plan_family,
)
from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.roles import HIRE_RETRY_SECONDS
from bitdust.services.service_supplier import MIN_DONATED
from tests.sandbox.fakes import FakeClock, FakeLauncher


@pytest.fixture
def launcher() -> FakeLauncher:
    return FakeLauncher()


@pytest.fixture
def box(tmp_path, launcher) -> Sandbox:
    clock = FakeClock()
    return Sandbox(tmp_path / "net", launcher=launcher, clock=clock, sleep=clock.sleep)


def _option(home: Path, key: str) -> str:
    return (home / "config" / key).read_text().strip()


@pytest.mark.parametrize(
    ("suppliers", "expected"), [(0, None), (1, None), (2, 2), (3, 2), (4, 4), (6, 4), (7, 4), (30, 4)]
)
def test_the_default_family_is_min_k_4_rounded_down_to_an_ecc_map_size(suppliers, expected) -> None:
    assert default_suppliers_number(suppliers) == expected


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"suppliers": 1}, "at least 2 suppliers"),
        ({"suppliers": 4, "suppliers_number": 3}, "no ECC map"),
        ({"suppliers": 4, "suppliers_number": 7}, "needs at least 7 suppliers"),
        ({"suppliers": 0, "suppliers_number": 2}, "needs suppliers"),
        ({"suppliers": 2, "donated_space": 1 * MB}, "at least 64 MB"),
        ({"suppliers": 2, "needed_space": 0}, "positive"),
        ({"suppliers": -1}, "negative"),
    ],
)
def test_a_family_that_could_never_be_hired_is_refused_with_the_reason(kwargs, reason) -> None:
    with pytest.raises(SandboxError, match=reason):
        plan_family(**kwargs)


def test_without_suppliers_the_plain_nodes_stay_plain(box) -> None:
    current = box.up(2, family=plan_family(0))
    assert [(n.name, n.role) for n in current.nodes] == [("node-1", "node"), ("node-2", "node")]
    assert not (current.nodes[0].home / "config/services/customer/enabled").exists()


def test_suppliers_start_before_the_customers_with_their_options_and_identities(box, launcher) -> None:
    family = plan_family(3, donated_space=128 * MB, needed_space=16 * MB)
    current = box.up(2, id_servers=1, dht_seeds=1, family=family)

    assert [(n.name, n.role) for n in current.nodes] == [
        ("id-a", "id-server"),
        ("dht-1", "dht-seed"),
        ("supplier-1", "supplier"),
        ("supplier-2", "supplier"),
        ("supplier-3", "supplier"),
        ("node-1", "customer"),
        ("node-2", "customer"),
    ]
    assert launcher.identities == ["supplier-1", "supplier-2", "supplier-3", "node-1", "node-2"]
    ports = [
        p for n in current.nodes for p in (n.rest_port, n.ws_port, *(n.extra.get(k) for k in ("tcp_port", "dht_port")))
    ]
    ports = [p for p in ports if p is not None]
    assert len(ports) == len(set(ports))
    for node in current.nodes[2:5]:
        assert _option(node.home, "services/supplier/enabled") == "true"
        assert _option(node.home, "services/supplier/donated-space") == "128 MB"
        assert _option(node.home, "services/tcp-connections/tcp-port") == str(node.extra["tcp_port"])
        assert _option(node.home, "services/identity-propagate/min-servers") == "1"
        assert not (node.home / "config/services/customer/enabled").exists()
    for node in current.nodes[5:]:
        assert _option(node.home, "services/customer/enabled") == "true"
        assert _option(node.home, "services/customer/suppliers-number") == "2"
        assert _option(node.home, "services/customer/needed-space") == "16 MB"
        assert not (node.home / "config/services/supplier/enabled").exists()
    recorded = {n.name: n.to_json() for n in state.load(box.directory).nodes}
    assert recorded["supplier-1"]["donated_space"] == 128 * MB
    assert recorded["node-1"]["suppliers_number"] == 2
    assert recorded["node-1"]["needed_space"] == 16 * MB


def test_the_option_files_hold_what_the_services_own_options_parse(box) -> None:
    """The text the sandbox writes is what service_supplier and service_customer read back."""
    current = box.up(1, family=plan_family(4))
    supplier = next(n for n in current.nodes if n.role == "supplier")
    customer = next(n for n in current.nodes if n.role == "customer")
    assert Size(min=MIN_DONATED).parse(_option(supplier.home, "services/supplier/donated-space")) == (
        DEFAULT_DONATED_SPACE
    )
    types = {option.key: option.type for option in customer_options()}
    assert (
        types["services/customer/suppliers-number"].parse(_option(customer.home, "services/customer/suppliers-number"))
        == 4
    )
    assert types["services/customer/needed-space"].parse(_option(customer.home, "services/customer/needed-space")) == (
        DEFAULT_NEEDED_SPACE
    )
    # suppliers attach layer 3 while the customer already looks for them: it asks again soon
    retry = _option(customer.home, "services/employer/hire-retry-seconds")
    assert int(retry) == HIRE_RETRY_SECONDS < 10


def test_an_engine_without_service_customer_ignores_the_customer_files(box) -> None:
    """The customer's option files do not disturb an engine that has no such options yet; one
    that registers them later reads them."""
    current = box.up(1, family=plan_family(2))
    customer = next(n for n in current.nodes if n.role == "customer")
    config = Config(customer.home / "config")
    config.load()
    assert "services/customer/suppliers-number" not in config
    assert "logs/debug-level" in config  # the engine's own options loaded as usual
    for option in customer_options():
        config.register(option)
    assert config.get("services/customer/suppliers-number") == 2


def test_a_plain_node_that_becomes_a_customer_keeps_its_ports_and_sheds_old_role_fields(box, launcher) -> None:
    first = box.up(1, family=plan_family(2))
    box.down()
    node_1 = next(n for n in first.nodes if n.name == "node-1")
    again = box.up(1)  # no suppliers now: node-1 is a plain node again
    plain = next(n for n in again.nodes if n.name == "node-1")
    assert plain.role == "node"
    assert (plain.rest_port, plain.ws_port) == (node_1.rest_port, node_1.ws_port)
    assert "suppliers_number" not in plain.extra


@pytest.fixture
def run(launcher):
    clock = FakeClock()

    def factory(directory):
        return Sandbox(directory, launcher=launcher, clock=clock, sleep=clock.sleep)

    def invoke(*args: str):
        return CliRunner().invoke(sandbox, list(args), obj=SimpleNamespace(sandbox_factory=factory))

    return invoke


def test_cli_up_with_suppliers_shows_each_nodes_role(run, tmp_path) -> None:
    result = run(
        "up", "--nodes", "1", "--suppliers", "3", "--donated-space", "100 MB", "--dir", str(tmp_path), "--json"
    )
    assert result.exit_code == 0, result.output
    nodes = json.loads(result.output)["nodes"]
    assert [(n["name"], n["role"]) for n in nodes if n["role"] in ("supplier", "customer")] == [
        ("supplier-1", "supplier"),
        ("supplier-2", "supplier"),
        ("supplier-3", "supplier"),
        ("node-1", "customer"),
    ]
    assert nodes[-1]["suppliers_number"] == 2
    assert {n["donated_space"] for n in nodes if n["role"] == "supplier"} == {100 * MB}
    status = run("status", "--dir", str(tmp_path), "--json")
    assert {n["name"]: n["role"] for n in json.loads(status.output)["nodes"]}["supplier-2"] == "supplier"


@pytest.mark.parametrize(
    ("args", "code", "reason"),
    [
        (("--suppliers", "4", "--suppliers-number", "7"), 1, "needs at least 7 suppliers"),
        (("--suppliers", "1"), 1, "at least 2 suppliers"),
        (("--suppliers", "2", "--donated-space", "1 MB"), 1, "at least 64 MB"),
        (("--suppliers", "2", "--donated-space", "lots"), 2, "not a size"),
    ],
)
def test_cli_refuses_a_family_that_cannot_be_hired_and_starts_nothing(
    run, launcher, tmp_path, args, code, reason
) -> None:
    result = run("up", *args, "--dir", str(tmp_path))
    assert result.exit_code == code
    assert reason in result.output
    assert launcher.calls == []


def test_cli_table_shows_what_suppliers_donate_and_the_customers_family(run, tmp_path) -> None:
    result = run("up", "--nodes", "1", "--suppliers", "4", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    supplier_row = next(line for line in result.output.splitlines() if "supplier-1" in line)
    customer_row = next(line for line in result.output.splitlines() if "node-1" in line and "customer" in line)
    assert "256 MB" in supplier_row
    assert " 4 " in customer_row
