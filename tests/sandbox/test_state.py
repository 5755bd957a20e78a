from __future__ import annotations

import json
from pathlib import Path

import pytest

from bitdust.sandbox import state
from bitdust.sandbox.errors import SandboxError, SandboxNotFound
from bitdust.sandbox.state import NodeRecord, SandboxState


def record(name: str = "node-1", **extra) -> NodeRecord:
    return NodeRecord(
        name=name, role="node", home=Path("/x") / name, rest_port=20001, ws_port=20002, pid=7, extra=extra
    )


def test_default_dir_prefers_argument_then_environment_then_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(state.DIR_ENV, str(tmp_path / "env"))
    assert state.default_dir(tmp_path / "arg") == tmp_path / "arg"
    assert state.default_dir(None) == tmp_path / "env"
    monkeypatch.delenv(state.DIR_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert state.default_dir(None) == tmp_path / ".bitdust-sandbox"


def test_node_json_has_the_documented_fields_and_keeps_role_fields() -> None:
    node = record(http_port=20003)
    data = node.to_json()
    assert data == {
        "name": "node-1",
        "role": "node",
        "pid": 7,
        "rest_port": 20001,
        "ws_port": 20002,
        "home": "/x/node-1",
        "http_port": 20003,
    }
    assert NodeRecord.from_json(data) == node


def test_a_role_field_cannot_shadow_a_core_field() -> None:
    assert record(pid=99).to_json()["pid"] == 7


def test_save_and_load_round_trip(tmp_path) -> None:
    current = SandboxState(directory=tmp_path, nodes=[record("node-1"), record("node-2")])
    state.save(current)
    data = json.loads((tmp_path / "sandbox.json").read_text())
    assert data["dir"] == str(tmp_path)
    assert [n["name"] for n in data["nodes"]] == ["node-1", "node-2"]
    assert state.load(tmp_path) == current
    assert not [p for p in tmp_path.iterdir() if p.name != "sandbox.json"]  # no temporary file left


def test_load_without_a_file_is_not_found(tmp_path) -> None:
    with pytest.raises(SandboxNotFound):
        state.load(tmp_path)
    assert state.load_or_none(tmp_path) is None


@pytest.mark.parametrize("text", ["{", "[]", '{"nodes": [{"name": "a"}]}', '{"nodes": 3}'])
def test_a_damaged_file_is_a_clear_error(tmp_path, text) -> None:
    (tmp_path / "sandbox.json").write_text(text)
    with pytest.raises(SandboxError, match="sandbox"):
        state.load(tmp_path)


def test_node_lookup_and_replace(tmp_path) -> None:
    current = SandboxState(directory=tmp_path, nodes=[record("node-1"), record("node-2")])
    changed = current.replace_node(current.node("node-2").with_pid(None))
    assert changed.node("node-2").pid is None
    assert changed.node("node-1").pid == 7
    with pytest.raises(SandboxError, match="node-3"):
        current.node("node-3")
