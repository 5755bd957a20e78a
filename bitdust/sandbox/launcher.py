"""Starting, probing and stopping one engine process of the sandbox.

:class:`ProcessLauncher` is the only part of the sandbox that touches processes and sockets;
the network-level logic in :mod:`bitdust.sandbox.network` takes it as a collaborator, so tests can
hand in a fake.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

from bitdust.interface.client import ApiClient, EngineNotRunning, engine_pid
from bitdust.sandbox.errors import NodeStartFailed
from bitdust.sandbox.roles import role
from bitdust.sandbox.state import NodeRecord

HEALTH_TIMEOUT = 2.0
STOP_REQUEST_TIMEOUT = 5.0
IDENTITY_TIMEOUT = 120.0


class Process(Protocol):
    """What the sandbox needs from a started process (``subprocess.Popen`` fits)."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def stdout_log(record: NodeRecord) -> Path:
    return record.home / "logs" / "stdout.log"


def engine_command(record: NodeRecord) -> list[str]:
    """The command line of a node's engine: the same ``bitdust run`` a user would type."""
    command = [
        sys.executable,
        "-m",
        "bitdust",
        "run",
        "--basedir",
        str(record.home),
        "--rest-port",
        str(record.rest_port),
        "--ws-port",
        str(record.ws_port),
        "--quiet",
    ]
    return command + role(record.role).engine_args(record)


def read_tail(path: Path, offset: int = 0, lines: int = 20) -> str:
    """The last ``lines`` lines of ``path`` written after ``offset`` (for error messages)."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
    except OSError:
        return f"({path} cannot be read)"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join("  " + line for line in tail) if tail else "  (no output)"


def _same_path(a: str, b: Path) -> bool:
    try:
        return Path(a).expanduser().resolve() == b.resolve()
    except OSError:
        return False


def is_engine_command(args: list[str], home: Path) -> bool:
    """Whether a process's arguments say it is an engine (``bitdust run`` or twistd) on ``home``."""
    if not any(arg == "bitdust" or arg.endswith("/bitdust") for arg in args):
        return False
    if "run" not in args and not any(Path(arg).name == "twistd" for arg in args[:3]):
        return False
    for index, arg in enumerate(args):
        if arg == "--basedir" and index + 1 < len(args) and _same_path(args[index + 1], home):
            return True
        if arg.startswith("--basedir=") and _same_path(arg.partition("=")[2], home):
            return True
    return False


def engine_pids(home: Path) -> list[int]:
    """Pids of every live engine process running on ``home``.

    On Linux the process table is the truth: it also finds an engine that a restart has just
    spawned and that has not written its pid file yet, and it never mistakes a recycled pid for
    an engine. Elsewhere the pid file is all there is.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        pid = engine_pid(home)
        return [pid] if pid else []
    found = []
    own = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if not raw:  # kernel threads and zombies
            continue
        args = raw.rstrip(b"\0").decode("utf-8", "replace").split("\0")
        if is_engine_command(args, home):
            found.append(int(entry.name))
    return sorted(found)


class ProcessLauncher:
    """Real processes on loopback."""

    def spawn(self, record: NodeRecord) -> Process:
        """Start the node's engine detached from us, its output appended to ``logs/stdout.log``."""
        log_path = stdout_log(record)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as out, open(os.devnull, "rb") as devnull:
            return subprocess.Popen(
                engine_command(record),
                stdin=devnull,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                cwd=record.home,
            )

    def log_offset(self, record: NodeRecord) -> int:
        try:
            return stdout_log(record).stat().st_size
        except OSError:
            return 0

    def log_tail(self, record: NodeRecord, offset: int) -> str:
        return read_tail(stdout_log(record), offset)

    def health(self, record: NodeRecord) -> dict[str, Any] | None:
        """The ``process_health`` result, or None when the node does not answer it (yet)."""
        try:
            with ApiClient(record.home, port=record.rest_port, timeout=HEALTH_TIMEOUT) as client:
                status, envelope = client.request("GET", "process/health/v1")
        except (EngineNotRunning, OSError, ValueError):
            return None
        if status != 200 or envelope.get("status") != "OK":
            return None
        result = envelope.get("result")
        return result if isinstance(result, dict) else {"alive": True}

    def ensure_identity(self, record: NodeRecord, username: str) -> dict[str, Any]:
        """The node's identity; created (``identity_create``) when it has none yet."""
        with ApiClient(record.home, port=record.rest_port, timeout=IDENTITY_TIMEOUT) as client:
            status, envelope = client.request("GET", "identity/get/v1")
            if status == 200:
                return envelope["result"]
            status, envelope = client.request(
                "POST", "identity/create/v1", {"username": username, "join_network": True}
            )
        if status != 200:
            raise NodeStartFailed(
                f"{record.name} could not create its identity: {'; '.join(envelope.get('errors', []))}"
            )
        return envelope["result"]

    def request_stop(self, record: NodeRecord) -> bool:
        """Ask the engine to stop through its API; False when it did not take the request."""
        try:
            with ApiClient(record.home, port=record.rest_port, timeout=STOP_REQUEST_TIMEOUT) as client:
                status, envelope = client.request("GET", "process/stop/v1")
        except (EngineNotRunning, OSError, ValueError):
            return False
        return status == 200 and envelope.get("status") == "OK"

    def pids(self, record: NodeRecord) -> list[int]:
        return engine_pids(record.home)

    def signal(self, pid: int, signum: int) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


SIGTERM = signal.SIGTERM
SIGKILL = signal.SIGKILL
