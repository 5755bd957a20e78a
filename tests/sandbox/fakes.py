"""A recording fake of the sandbox's process launcher, and a fake clock for its deadlines."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import attrs

from bitdust.sandbox.state import NodeRecord


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@attrs.define
class FakeProcess:
    pid: int
    returncode: int | None = None
    polls: int = 0

    def poll(self) -> int | None:
        self.polls += 1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            raise subprocess.TimeoutExpired("fake", timeout or 0)
        return self.returncode


@attrs.define
class Behaviour:
    """How a fake node behaves: ``healthy_after`` health polls, or never; what stops it."""

    healthy_after: int | None = 0
    exit_code: int | None = None  # exits at once with this code
    stops_on_api: bool = True
    stops_on_term: bool = True
    api_answers: bool = True


class FakeLauncher:
    def __init__(self) -> None:
        self.next_pid = 5000
        self.running: dict[Path, list[int]] = {}
        self.processes: dict[int, FakeProcess] = {}
        self.behaviour: dict[str, Behaviour] = {}
        self.health_polls: dict[str, int] = {}
        self.calls: list[tuple[Any, ...]] = []

    def behave(self, name: str, **kwargs: Any) -> None:
        self.behaviour[name] = Behaviour(**kwargs)

    def _of(self, record: NodeRecord) -> Behaviour:
        return self.behaviour.get(record.name, Behaviour())

    def add_foreign(self, home: Path) -> int:
        """An engine on ``home`` that the fake did not spawn (a restart's successor, a stray)."""
        self.next_pid += 1
        self.running.setdefault(home, []).append(self.next_pid)
        return self.next_pid

    def spawn(self, record: NodeRecord) -> FakeProcess:
        self.next_pid += 1
        process = FakeProcess(self.next_pid)
        self.processes[process.pid] = process
        self.calls.append(("spawn", record.name, record.rest_port, record.ws_port))
        self.health_polls[record.name] = 0
        if self._of(record).exit_code is not None:
            process.returncode = self._of(record).exit_code
        else:
            self.running.setdefault(record.home, []).append(process.pid)
        return process

    def log_offset(self, record: NodeRecord) -> int:
        return 0

    def log_tail(self, record: NodeRecord, offset: int) -> str:
        return f"  {record.name}: boom at offset {offset}"

    def health(self, record: NodeRecord) -> dict[str, Any] | None:
        if not self.running.get(record.home):
            return None
        self.health_polls[record.name] = self.health_polls.get(record.name, 0) + 1
        after = self._of(record).healthy_after
        if after is None or self.health_polls[record.name] <= after:
            return None
        return {"alive": True, "state": "READY"}

    def ensure_identity(self, record: NodeRecord, username: str) -> dict[str, Any]:
        self.identities = getattr(self, "identities", [])
        self.identities.append(username)
        return {"global_id": f"{username}@127.0.0.1_8084", "idurl": f"http://127.0.0.1:8084/{username}.xml"}

    def request_stop(self, record: NodeRecord) -> bool:
        self.calls.append(("api-stop", record.name))
        behaviour = self._of(record)
        if not behaviour.api_answers or not self.running.get(record.home):
            return False
        if behaviour.stops_on_api:
            self._end(record.home, self.running.get(record.home, [])[:1])
        return True

    def pids(self, record: NodeRecord) -> list[int]:
        return list(self.running.get(record.home, []))

    def signal(self, pid: int, signum: int) -> None:
        self.calls.append(("signal", pid, signum))
        for home, pids in self.running.items():
            if pid in pids:
                name = home.name
                if signum == signal.SIGKILL or self.behaviour.get(name, Behaviour()).stops_on_term:
                    self._end(home, [pid])
                return

    def _end(self, home: Path, pids: list[int]) -> None:
        for pid in pids:
            self.running[home].remove(pid)
            if pid in self.processes:
                self.processes[pid].returncode = 0

    def all_running(self) -> list[int]:
        return [pid for pids in self.running.values() for pid in pids]
