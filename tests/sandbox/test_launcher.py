from __future__ import annotations

import sys
from pathlib import Path

from bitdust.sandbox.launcher import engine_command, is_engine_command, read_tail
from bitdust.sandbox.state import NodeRecord


def test_engine_command_is_bitdust_run_on_the_nodes_home_and_ports(tmp_path) -> None:
    record = NodeRecord(name="node-1", role="node", home=tmp_path / "node-1", rest_port=20001, ws_port=20002)
    command = engine_command(record)
    assert command[:4] == [sys.executable, "-m", "bitdust", "run"]
    assert command[command.index("--basedir") + 1] == str(tmp_path / "node-1")
    assert command[command.index("--rest-port") + 1] == "20001"
    assert command[command.index("--ws-port") + 1] == "20002"
    assert is_engine_command(command, tmp_path / "node-1")


def test_is_engine_command_matches_only_engines_on_that_home(tmp_path) -> None:
    home = tmp_path / "node-1"
    home.mkdir()
    python = sys.executable
    assert is_engine_command([python, "-m", "bitdust", "run", "--basedir", str(home), "--wait-lock", "30"], home)
    assert is_engine_command(["/usr/bin/bitdust", "run", f"--basedir={home}"], home)
    assert is_engine_command(["/usr/bin/twistd", "-n", "bitdust", "--basedir", str(home)], home)
    assert not is_engine_command([python, "-m", "bitdust", "run", "--basedir", str(tmp_path / "node-2")], home)
    assert not is_engine_command([python, "-m", "bitdust", "stop", "--basedir", str(home)], home)
    assert not is_engine_command([python, "-m", "pytest", "run", "--basedir", str(home)], home)
    assert not is_engine_command(["vim", str(home / "bitdust")], home)


def test_read_tail_reads_only_after_the_offset(tmp_path) -> None:
    log = tmp_path / "stdout.log"
    log.write_text("old line\n" + "".join(f"line {i}\n" for i in range(30)))
    tail = read_tail(log, offset=len("old line\n"), lines=3)
    assert tail.splitlines() == ["  line 27", "  line 28", "  line 29"]
    assert "old" not in read_tail(log, offset=9)
    assert "cannot be read" in read_tail(Path(tmp_path / "missing.log"))
