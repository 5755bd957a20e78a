"""The sandbox's up/status/down logic against a recording fake launcher (no processes)."""

from __future__ import annotations

import json
import signal

import pytest

from bitdust.sandbox import state
from bitdust.sandbox.errors import NodeStartFailed, SandboxError, SandboxNotFound, SandboxRunning
from bitdust.sandbox.network import KILL_TIMEOUT, STOP_TIMEOUT, TERM_TIMEOUT, Sandbox
from tests.sandbox.fakes import FakeClock, FakeLauncher, FakeProcess


@pytest.fixture
def launcher() -> FakeLauncher:
    return FakeLauncher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def box(tmp_path, launcher, clock) -> Sandbox:
    return Sandbox(tmp_path / "net", launcher=launcher, clock=clock, sleep=clock.sleep)


def test_up_starts_named_nodes_with_distinct_ports_and_records_them(box, launcher) -> None:
    current = box.up(3)

    assert [n.name for n in current.nodes] == ["node-1", "node-2", "node-3"]
    assert {n.role for n in current.nodes} == {"node"}
    assert [n.home for n in current.nodes] == [box.directory / f"node-{i}" for i in (1, 2, 3)]
    ports = [p for n in current.nodes for p in (n.rest_port, n.ws_port, n.extra["tcp_port"])]
    assert len(set(ports)) == 9
    assert [n.pid for n in current.nodes] == [5001, 5002, 5003]
    assert state.load(box.directory) == current
    on_disk = json.loads((box.directory / "sandbox.json").read_text())
    assert {"name", "role", "pid", "rest_port", "ws_port", "home", "tcp_port"} <= set(on_disk["nodes"][0])
    assert [c[0] for c in launcher.calls] == ["spawn"] * 3


def test_up_waits_for_every_node_to_answer_health(box, launcher, clock) -> None:
    launcher.behave("node-2", healthy_after=40)
    start = clock.now
    box.up(2)
    assert launcher.health_polls["node-2"] == 41
    assert clock.now > start


def test_up_with_zero_nodes_is_refused(box) -> None:
    with pytest.raises(SandboxError):
        box.up(0)


def test_up_refuses_while_nodes_of_the_folder_run(box, launcher) -> None:
    box.up(2)
    with pytest.raises(SandboxRunning, match="node-1.*node-2.*sandbox down"):
        box.up(1)
    assert len(launcher.all_running()) == 2


def test_up_refuses_an_engine_running_on_a_planned_home_without_a_record(box, launcher) -> None:
    launcher.add_foreign(box.directory / "node-1")
    with pytest.raises(SandboxRunning, match="node-1"):
        box.up(1)


def test_an_early_exit_fails_up_with_the_log_tail_and_stops_the_others(box, launcher) -> None:
    launcher.behave("node-2", exit_code=1)
    with pytest.raises(NodeStartFailed, match=r"node-2 exited with code 1(.|\n)*boom"):
        box.up(3)
    assert launcher.all_running() == []
    assert all(n.pid is None for n in state.load(box.directory).nodes)


def test_a_node_that_never_answers_fails_up_after_the_deadline(box, launcher, clock) -> None:
    launcher.behave("node-1", healthy_after=None)
    start = clock.now
    with pytest.raises(NodeStartFailed, match="node-1 did not answer process_health within 5 s"):
        box.up(2, timeout=5)
    assert 5 <= clock.now - start < 5 + STOP_TIMEOUT
    assert launcher.all_running() == []


def test_an_interrupted_up_stops_what_it_started(box, launcher, monkeypatch) -> None:
    def interrupted(*_):
        raise KeyboardInterrupt

    launcher.behave("node-1", healthy_after=None)
    box._sleep = interrupted
    with pytest.raises(KeyboardInterrupt):
        box.up(2)
    assert launcher.all_running() == []


def test_status_reports_running_healthy_and_state(box, launcher) -> None:
    box.up(2)
    launcher.behave("node-2", healthy_after=None)
    launcher.health_polls["node-2"] = 0
    statuses = {s.record.name: s for s in box.status()}
    assert (statuses["node-1"].running, statuses["node-1"].healthy, statuses["node-1"].state) == (True, True, "READY")
    assert (statuses["node-2"].running, statuses["node-2"].healthy, statuses["node-2"].state) == (True, False, None)

    box.stop_node("node-1")
    first = box.status()[0]
    assert (first.running, first.healthy, first.pid) == (False, False, None)
    assert first.to_json()["running"] is False


def test_status_follows_a_restarted_engine_and_records_its_pid(box, launcher) -> None:
    current = box.up(1)
    home = current.nodes[0].home
    launcher.running[home] = []
    new_pid = launcher.add_foreign(home)
    assert box.status()[0].pid == new_pid
    assert state.load(box.directory).nodes[0].pid == new_pid


def test_status_without_a_sandbox_is_not_found(box) -> None:
    with pytest.raises(SandboxNotFound):
        box.status()


def test_down_stops_every_node_through_the_api_and_keeps_homes(box, launcher) -> None:
    current = box.up(2)
    stopped = box.down()
    assert [r.name for r in stopped] == ["node-1", "node-2"]
    assert launcher.all_running() == []
    assert sorted(c for c in launcher.calls if c[0] == "api-stop") == [("api-stop", "node-1"), ("api-stop", "node-2")]
    assert not [c for c in launcher.calls if c[0] == "signal"]
    after = state.load(box.directory)
    assert [n.pid for n in after.nodes] == [None, None]
    assert [(n.rest_port, n.ws_port) for n in after.nodes] == [(n.rest_port, n.ws_port) for n in current.nodes]
    assert box.down() == []


def test_down_sends_sigterm_when_the_api_does_not_answer(box, launcher, clock) -> None:
    box.up(1)
    launcher.behave("node-1", api_answers=False)
    start = clock.now
    box.down()
    assert launcher.all_running() == []
    assert ("signal", 5001, signal.SIGTERM) in launcher.calls
    assert clock.now - start < 1


def test_down_escalates_to_sigterm_then_sigkill(box, launcher, clock) -> None:
    box.up(1)
    launcher.behave("node-1", stops_on_api=False, stops_on_term=False)
    start = clock.now
    box.down()
    assert launcher.all_running() == []
    signals = [c[2] for c in launcher.calls if c[0] == "signal"]
    assert signals == [signal.SIGTERM, signal.SIGKILL]
    assert clock.now - start >= STOP_TIMEOUT + TERM_TIMEOUT
    assert clock.now - start < STOP_TIMEOUT + TERM_TIMEOUT + KILL_TIMEOUT


def test_down_also_stops_an_engine_that_appears_while_stopping(box, launcher) -> None:
    """A restart's successor starts while the old engine is stopping: it gets SIGTERM too."""
    current = box.up(1)
    home = current.nodes[0].home
    successor = launcher.add_foreign(home)
    launcher.behave("node-1", stops_on_api=True)
    box.down()
    assert launcher.all_running() == []
    assert ("signal", successor, signal.SIGTERM) in launcher.calls


def test_up_again_reuses_homes_names_and_free_ports(box, launcher) -> None:
    first = box.up(2)
    box.down()
    second = box.up(2)
    assert [(n.name, n.home, n.rest_port, n.ws_port) for n in second.nodes] == [
        (n.name, n.home, n.rest_port, n.ws_port) for n in first.nodes
    ]
    assert [n.pid for n in second.nodes] == [5003, 5004]


def test_stop_node_and_start_node_keep_home_and_ports(box, launcher) -> None:
    first = box.up(2)
    assert box.stop_node("node-2") is True
    assert box.stop_node("node-2") is False
    assert state.load(box.directory).node("node-2").pid is None
    assert state.load(box.directory).node("node-1").pid == first.nodes[0].pid

    record = box.start_node("node-2")
    assert (record.home, record.rest_port, record.ws_port) == (
        first.nodes[1].home,
        first.nodes[1].rest_port,
        first.nodes[1].ws_port,
    )
    assert record.pid not in (None, first.nodes[1].pid)
    assert state.load(box.directory).node("node-2") == record


def test_start_node_refuses_a_running_node_and_an_unknown_name(box) -> None:
    box.up(1)
    with pytest.raises(SandboxRunning, match="already running"):
        box.start_node("node-1")
    with pytest.raises(SandboxError, match="node-9"):
        box.start_node("node-9")
    with pytest.raises(SandboxError, match="node-9"):
        box.stop_node("node-9")


def test_a_failed_start_node_leaves_nothing_running(box, launcher) -> None:
    box.up(1)
    box.stop_node("node-1")
    launcher.behave("node-1", exit_code=3)
    with pytest.raises(NodeStartFailed, match="code 3"):
        box.start_node("node-1")
    assert launcher.all_running() == []
    assert state.load(box.directory).node("node-1").pid is None


def test_identity_servers_get_ports_config_and_everyone_the_network_config(box, launcher) -> None:
    current = box.up(2, id_servers=2)
    names = [n.name for n in current.nodes]
    assert names == ["id-a", "id-b", "node-1", "node-2"]
    servers = [n for n in current.nodes if n.role == "id-server"]
    ports = [n.extra["id_port"] for n in servers]
    assert len(set(ports)) == 2
    for server in servers:
        home = server.home
        assert (home / "config/services/identity-server/enabled").read_text().strip() == "true"
        assert (home / "config/services/identity-server/web-port").read_text().strip() == str(server.extra["id_port"])
    for node in current.nodes:
        network = json.loads((node.home / "metadata/networkconfig.json").read_text())
        assert [s["http_port"] for s in network["identity-servers"]] == ports
    assert launcher.identities == ["node-1", "node-2"]
    plain = [n for n in state.load(box.directory).nodes if n.role == "node"]
    assert [n.extra["global_id"] for n in plain] == ["node-1@127.0.0.1_8084", "node-2@127.0.0.1_8084"]
    assert plain[0].to_json()["idurl"] == "http://127.0.0.1:8084/node-1.xml"


def test_bare_nodes_get_no_identity(box, launcher) -> None:
    current = box.up(1, id_servers=1, bare=True)
    assert [n.name for n in current.nodes] == ["id-a", "node-1"]
    assert getattr(launcher, "identities", []) == []
    assert "global_id" not in current.nodes[1].extra


@pytest.mark.parametrize(("id_servers", "expected"), [(1, "1"), (2, "2"), (3, "2")])
def test_nodes_register_on_as_many_identity_servers_as_the_sandbox_has(box, launcher, id_servers, expected) -> None:
    """A one-server sandbox works: its nodes accept an identity with a single source."""
    current = box.up(2, id_servers=id_servers)
    for node in (n for n in current.nodes if n.role == "node"):
        option = node.home / "config/services/identity-propagate/min-servers"
        assert option.read_text().strip() == expected


def test_lettered_names() -> None:
    from bitdust.sandbox.roles import ID_SERVER

    assert [ID_SERVER.node_name(i) for i in (1, 2, 26, 27)] == ["id-a", "id-b", "id-z", "id-aa"]


def test_start_node_after_a_kill_waits_for_the_dying_child_before_checking_its_ports(
    box, launcher, monkeypatch
) -> None:
    """A SIGKILLed engine leaves the process table's engines (its command line goes first) while
    it still holds its listening sockets; start_node reaps our dying child before it calls the
    ports taken, or a restart right after a kill fails with "taken by another program"."""
    first = box.up(1).nodes[0]
    dying = launcher.processes[first.pid]
    launcher.running[first.home] = []  # killed: no engine on the home any more, not yet exited
    exited: list[float | None] = []

    def wait(process: FakeProcess, timeout: float | None = None) -> int:
        exited.append(timeout)  # the exit finishes while we wait for it
        process.returncode = -signal.SIGKILL
        return process.returncode

    monkeypatch.setattr(FakeProcess, "wait", wait)
    monkeypatch.setattr("bitdust.sandbox.network.port_is_free", lambda _port: dying.returncode is not None)

    record = box.start_node("node-1")

    assert exited, "the dying child was waited for"
    assert record.pid not in (None, first.pid)
