"""deploy/Dockerfile, deploy/compose.yaml and .dockerignore, checked without a Docker engine.

No Docker engine runs where the tests run, so the files are read as Docker would read them and
checked for what they must say: the data volume owned by the engine user, the peer-to-peer ports
exposed, the network config taken from a mounted file, and a compose network with every role.
The entrypoint script is a plain shell script and is run for real.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from bitdust.main.settings.config_options import DEFAULT_OPTIONS
from bitdust.node.composition import default_service_factories
from tests.deploy.conftest import ROOT

DEPLOY = ROOT / "deploy"
NETWORK_CONFIG_KEY = "services/network/network-config"


def _options() -> dict[str, Any]:
    """Every option an engine registers, by key (enable flags map to None: plain booleans)."""
    options = {option.key: option for option in DEFAULT_OPTIONS}
    bare_engine = SimpleNamespace(config=frozenset())  # services only ask which options exist yet
    for factory in default_service_factories():
        service = factory(bare_engine)
        options[service.enabled_key()] = None
        options.update({option.key: option for option in service.options()})
    return options


def _default(key: str) -> Any:
    return _options()[key].default


def dockerfile() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def _env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in instructions:
        if word == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
    return env


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _role_config(service: dict[str, Any]) -> dict[str, str]:
    text = (service.get("environment") or {}).get("BITDUST_CONFIG", "")
    return dict(line.strip().split("=", 1) for line in text.splitlines() if line.strip())


def _role(service: dict[str, Any]) -> str:
    config = _role_config(service)
    if config.get("services/identity-server/enabled") == "true":
        return "id-server"
    if config.get("services/entangled-dht/seed-mode") == "true":
        return "dht-seed"
    return "node"


def _address(service: dict[str, Any]) -> str:
    return service["networks"]["bitdust"]["ipv4_address"]


# -- Dockerfile -------------------------------------------------------------------------------


def test_data_volume_is_created_owned_by_the_engine_user_before_it_is_declared() -> None:
    instructions = dockerfile()
    words = [word for word, _ in instructions]
    home = _env(instructions)["BITDUST_HOME"]
    (volume,) = [json.loads(rest) for word, rest in instructions if word == "VOLUME"]
    assert volume == [home]
    user = next(rest for word, rest in instructions if word == "USER")
    assert user != "root"
    runs = [(i, rest) for i, (word, rest) in enumerate(instructions) if word == "RUN"]
    creates = [
        i
        for i, rest in runs
        if any(
            " ".join(command[:2]) == "install -d" and f"-o {user}" in " ".join(command) and command[-1] == home
            for command in (shlex.split(part) for part in rest.split("&&"))
        )
    ]
    assert creates, f"no RUN creates {home} owned by {user}"
    assert creates[0] < words.index("VOLUME") and creates[0] < words.index("USER")
    parts = [shlex.split(part) for _, rest in runs for part in rest.split("&&")]
    assert any(command[0] == "useradd" and command[-1] == user for command in parts)


def test_peer_to_peer_ports_are_exposed() -> None:
    exposed = {item for word, rest in dockerfile() if word == "EXPOSE" for item in rest.split()}
    assert f"{_default('services/tcp-connections/tcp-port')}/tcp" in exposed
    assert f"{_default('services/entangled-dht/udp-port')}/udp" in exposed
    assert f"{_default('services/identity-server/web-port')}/tcp" in exposed


def test_the_image_runs_the_engine_through_the_entrypoint_that_reads_the_mounted_network_config() -> None:
    instructions = dockerfile()
    (entrypoint,) = [json.loads(rest) for word, rest in instructions if word == "ENTRYPOINT"]
    assert any("deploy/docker-entrypoint.sh" in rest and entrypoint[0] in rest for word, rest in instructions)
    (command,) = [json.loads(rest) for word, rest in instructions if word == "CMD"]
    assert command[:2] == ["bitdust", "run"]
    assert _env(instructions)["BITDUST_NETWORK_CONFIG"].startswith("/etc/")


def test_dockerignore_keeps_the_venv_and_git_out_of_the_image() -> None:
    patterns = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git"} <= patterns


# -- compose.yaml ------------------------------------------------------------------------------


def test_compose_brings_up_every_role_from_the_image() -> None:
    services = compose()["services"]
    roles = [_role(service) for service in services.values()]
    assert roles.count("id-server") >= _default("services/identity-propagate/min-servers")
    assert roles.count("dht-seed") >= 1 and roles.count("node") >= 2
    for service in services.values():
        build = service["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT
        assert build["dockerfile"] == "deploy/Dockerfile"


def test_every_engine_mounts_the_network_config_and_has_its_own_home_volume() -> None:
    document = compose()
    env = _env(dockerfile())
    homes = []
    for name, service in document["services"].items():
        mounts = [volume.split(":") for volume in service["volumes"]]
        assert ["./networkconfig.json", env["BITDUST_NETWORK_CONFIG"], "ro"] in mounts, name
        (home,) = [source for source, target, *_ in mounts if target == env["BITDUST_HOME"]]
        assert home in document["volumes"], name
        homes.append(home)
    assert len(set(homes)) == len(homes)


def test_the_network_config_names_the_compose_servers_and_seeds() -> None:
    document = compose()
    services = document["services"]
    network = json.loads((DEPLOY / "networkconfig.json").read_text())
    subnet = ipaddress.ip_network(document["networks"]["bitdust"]["ipam"]["config"][0]["subnet"])
    assert all(ipaddress.ip_address(_address(s)) in subnet for s in services.values())
    web_port = _default("services/identity-server/web-port")
    id_servers = {n: s for n, s in services.items() if _role(s) == "id-server"}
    assert [(s["host"], s["http_port"]) for s in network["identity-servers"]] == [
        (_address(s), web_port) for s in id_servers.values()
    ]
    for service in id_servers.values():  # the IDURLs it hosts name its address, and it serves other machines
        config = _role_config(service)
        assert config["services/identity-server/host"] == _address(service)
        assert config["services/identity-server/interface"] == "0.0.0.0"
    udp_port = _default("services/entangled-dht/udp-port")
    seeds = [s for s in services.values() if _role(s) == "dht-seed"]
    assert [(s["host"], s["udp_port"]) for s in network["dht-seeds"]] == [(_address(s), udp_port) for s in seeds]
    # the first seed starts the DHT, each later one joins those before it
    assert _role_config(seeds[0])["services/entangled-dht/known-nodes"] == "genesis"
    for number, seed in enumerate(seeds[1:], start=1):
        joins = _role_config(seed)["services/entangled-dht/known-nodes"].split(", ")
        assert joins and set(joins) <= {f"{_address(s)}:{udp_port}" for s in seeds[:number]}


def test_every_role_option_is_a_real_option_with_a_valid_value() -> None:
    options = _options()
    for name, service in compose()["services"].items():
        for key, text in _role_config(service).items():
            assert key in options, f"{name}: unknown option {key}"
            if options[key] is not None:
                options[key].type.parse(text)


# -- the entrypoint ------------------------------------------------------------------------------


def _entrypoint(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "BITDUST_HOME": str(tmp_path / "home"), **env}
    return subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh"), "sh", "-c", 'echo "ran $0"', "engine"],
        capture_output=True,
        text=True,
        timeout=30,
        env=environment,
        check=False,
    )


def test_entrypoint_points_the_engine_at_the_mounted_network_config_and_writes_the_role(tmp_path) -> None:
    mounted = tmp_path / "networkconfig.json"
    mounted.write_text((DEPLOY / "networkconfig.json").read_text())
    role = compose()["services"]["id-a"]["environment"]["BITDUST_CONFIG"]

    done = _entrypoint(tmp_path, BITDUST_NETWORK_CONFIG=str(mounted), BITDUST_CONFIG=role)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran engine\n"  # the command runs after the settings are written
    config = tmp_path / "home" / "config"
    assert (config / NETWORK_CONFIG_KEY).read_text() == f"{mounted}\n"
    for key, value in _role_config(compose()["services"]["id-a"]).items():
        assert (config / key).read_text() == f"{value}\n"


def test_entrypoint_without_the_mount_says_so_and_still_runs(tmp_path) -> None:
    done = _entrypoint(tmp_path, BITDUST_NETWORK_CONFIG=str(tmp_path / "missing.json"))
    assert done.returncode == 0
    assert "no network config" in done.stderr
    assert not (tmp_path / "home" / "config" / NETWORK_CONFIG_KEY).exists()


@pytest.mark.parametrize("line", ["../../etc/passwd=x", "/abs=x", "no-equals-sign", "Upper/Case=1"])
def test_entrypoint_refuses_a_bad_option_line_and_runs_nothing(tmp_path, line) -> None:
    done = _entrypoint(tmp_path, BITDUST_CONFIG=line)
    assert done.returncode == 2
    assert "ran" not in done.stdout
