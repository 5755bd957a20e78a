"""``bitdust sandbox`` commands: output and exit codes, on a sandbox with a fake launcher."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from bitdust.interface.cli_sandbox import sandbox
from bitdust.sandbox.network import Sandbox
from tests.sandbox.fakes import FakeClock, FakeLauncher


@pytest.fixture
def launcher() -> FakeLauncher:
    return FakeLauncher()


@pytest.fixture
def run(launcher):
    clock = FakeClock()

    def factory(directory):
        return Sandbox(directory, launcher=launcher, clock=clock, sleep=clock.sleep)

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(sandbox, list(args), obj=SimpleNamespace(sandbox_factory=factory))

    return invoke


def test_up_json_prints_only_the_nodes(run, tmp_path) -> None:
    result = run("up", "--nodes", "2", "--dir", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dir"] == str(tmp_path)
    assert [n["name"] for n in data["nodes"]] == ["id-a", "id-b", "dht-1", "dht-2", "dht-3", "node-1", "node-2"]
    assert set(data["nodes"][0]) >= {"name", "role", "pid", "rest_port", "ws_port", "home", "id_port"}
    assert set(data["nodes"][2]) >= {"name", "role", "pid", "rest_port", "ws_port", "home", "dht_port"}
    assert set(data["nodes"][5]) >= {"name", "role", "pid", "rest_port", "ws_port", "home", "global_id", "idurl"}


def test_up_prints_a_table(run, tmp_path) -> None:
    result = run("up", "--nodes", "1", "--id-servers", "0", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    for text in ("node-1", "node", "REST", "WS", f"sandbox down --dir {tmp_path}"):
        assert text in result.stdout


def test_up_default_dir_comes_from_the_environment(run, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BITDUST_SANDBOX_DIR", str(tmp_path / "env"))
    result = run("up", "--nodes", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dir"] == str(tmp_path / "env")


def test_up_failure_exits_1_with_the_reason_on_stderr(run, launcher, tmp_path) -> None:
    launcher.behave("node-1", exit_code=1)
    result = run("up", "--nodes", "1", "--dir", str(tmp_path), "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "node-1 exited with code 1" in result.stderr


def test_up_twice_exits_1(run, tmp_path) -> None:
    assert run("up", "--dir", str(tmp_path)).exit_code == 0
    result = run("up", "--dir", str(tmp_path))
    assert result.exit_code == 1 and "already running" in result.stderr


def test_status_exit_codes(run, tmp_path) -> None:
    result = run("status", "--dir", str(tmp_path), "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == {"dir": str(tmp_path), "nodes": []}

    run("up", "--nodes", "2", "--id-servers", "0", "--dht-seeds", "0", "--dir", str(tmp_path))
    result = run("status", "--dir", str(tmp_path), "--json")
    assert result.exit_code == 0
    assert [(n["running"], n["healthy"], n["state"]) for n in json.loads(result.stdout)["nodes"]] == [
        (True, True, "READY"),
        (True, True, "READY"),
    ]
    result = run("status", "--dir", str(tmp_path))
    assert result.exit_code == 0 and "READY" in result.stdout

    assert run("stop", "node-1", "--dir", str(tmp_path)).exit_code == 0
    result = run("status", "--dir", str(tmp_path))
    assert result.exit_code == 0 and "stopped" in result.stdout

    assert run("down", "--dir", str(tmp_path)).exit_code == 0
    result = run("status", "--dir", str(tmp_path), "--json")
    assert result.exit_code == 3
    assert [n["running"] for n in json.loads(result.stdout)["nodes"]] == [False, False]


def test_stop_start_and_down(run, launcher, tmp_path) -> None:
    run("up", "--nodes", "2", "--dir", str(tmp_path))
    result = run("stop", "node-2", "--dir", str(tmp_path))
    assert result.exit_code == 0 and "node-2 stopped" in result.stdout
    result = run("stop", "node-2", "--dir", str(tmp_path))
    assert result.exit_code == 0 and "was not running" in result.stdout
    result = run("start", "node-2", "--dir", str(tmp_path))
    assert result.exit_code == 0 and "node-2 started" in result.stdout
    result = run("start", "node-2", "--dir", str(tmp_path))
    assert result.exit_code == 1 and "already running" in result.stderr
    result = run("start", "node-7", "--dir", str(tmp_path))
    assert result.exit_code == 1 and "node-7" in result.stderr

    result = run("down", "--dir", str(tmp_path))
    assert result.exit_code == 0 and "node-1, node-2" in result.stdout
    assert launcher.all_running() == []


def test_down_without_a_sandbox_exits_1(run, tmp_path) -> None:
    result = run("down", "--dir", str(tmp_path / "none"))
    assert result.exit_code == 1 and "no sandbox" in result.stderr


def test_bad_usage_exits_2(run, tmp_path) -> None:
    assert run("up", "--nodes", "0", "--dir", str(tmp_path)).exit_code == 2
    assert run("stop", "--dir", str(tmp_path)).exit_code == 2
