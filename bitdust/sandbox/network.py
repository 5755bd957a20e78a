"""A local network of engine processes on loopback: ``up``, ``status``, ``down``, one node's stop/start.

Each node is a separate ``bitdust run`` process with its own home folder ``DIR/<name>`` and its own
free REST and WebSocket ports; ``DIR/sandbox.json`` records them so that later commands (and other
programs) find them again.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from bitdust.sandbox import state as sandbox_state
from bitdust.sandbox.errors import NodeStartFailed, SandboxError, SandboxRunning
from bitdust.sandbox.family import FamilyPlan
from bitdust.sandbox.launcher import SIGKILL, SIGTERM, Process, ProcessLauncher
from bitdust.sandbox.layout import plan_nodes, prepare_homes, sandbox_layout
from bitdust.sandbox.ports import port_is_free
from bitdust.sandbox.roles import role
from bitdust.sandbox.state import NodeRecord, SandboxState

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
TERM_TIMEOUT = 10.0
KILL_TIMEOUT = 5.0
REAP_TIMEOUT = 5.0
POLL_INTERVAL = 0.05


@attrs.frozen
class NodeStatus:
    """A recorded node and what is true about it right now."""

    record: NodeRecord
    running: bool
    healthy: bool
    state: str | None
    pid: int | None

    def to_json(self) -> dict[str, Any]:
        data = self.record.to_json()
        data.update(pid=self.pid, running=self.running, healthy=self.healthy, state=self.state)
        return data


class Sandbox:
    """The sandbox in one folder. ``launcher`` does the process work (a fake in unit tests)."""

    def __init__(
        self,
        directory: str | Path | None = None,
        *,
        launcher: Any = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.directory = sandbox_state.default_dir(directory)
        self.launcher = launcher if launcher is not None else ProcessLauncher()
        self._clock = clock
        self._sleep = sleep
        self._processes: dict[str, Process] = {}

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> SandboxState:
        return sandbox_state.load(self.directory)

    def status(self) -> list[NodeStatus]:
        """Every recorded node: running (a live engine process on its home), healthy, state."""
        current = self.load()
        records = list(current.nodes)
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(records)))) as pool:
            statuses = list(pool.map(self._node_status, records))
        updated = current
        for status in statuses:
            if status.pid and status.pid != status.record.pid:
                updated = updated.replace_node(status.record.with_pid(status.pid))
        if updated is not current:  # a restart gave a node a new pid
            sandbox_state.save(updated)
        return statuses

    def _node_status(self, record: NodeRecord) -> NodeStatus:
        pids = self.launcher.pids(record)
        if not pids:
            return NodeStatus(record=record, running=False, healthy=False, state=None, pid=None)
        health = self.launcher.health(record)
        pid = record.pid if record.pid in pids else pids[-1]
        state = health.get("state") if health else None
        return NodeStatus(record=record, running=True, healthy=health is not None, state=state, pid=pid)

    def running_nodes(self, current: SandboxState | None) -> list[tuple[NodeRecord, list[int]]]:
        if current is None:
            return []
        live = []
        for record in current.nodes:
            pids = self.launcher.pids(record)
            if pids:
                live.append((record, pids))
        return live

    # -- starting --------------------------------------------------------------------------

    def up(
        self,
        nodes: int,
        *,
        id_servers: int = 0,
        dht_seeds: int = 0,
        bare: bool = False,
        timeout: float = START_TIMEOUT,
        family: FamilyPlan | None = None,
    ) -> SandboxState:
        """Start ``id_servers`` identity servers, ``dht_seeds`` DHT seeds and ``nodes`` plain nodes;
        wait until each answers.

        Every node's home gets the network config listing the identity servers and the DHT seeds
        (``dht-1`` starts the DHT, each later seed joins the earlier ones, every other node joins
        through all of them). Unless ``bare``,
        each plain node then gets an identity named after it (``node-1``, ...) registered on the
        identity servers. ``family`` adds suppliers (``supplier-1``, ... started before the
        plain nodes, each donating space) and makes the plain nodes customers that hire a family
        of them; see :mod:`bitdust.sandbox.family`. Refuses when the folder already has live nodes. Homes (and free ports)
        of a previous, stopped sandbox in the same folder are reused. On any failure every
        started node is stopped again before the error propagates.
        """
        if nodes < 1:
            raise SandboxError("a sandbox needs at least one node")
        if id_servers < 0:
            raise SandboxError("the number of identity servers cannot be negative")
        if dht_seeds < 0:
            raise SandboxError("the number of DHT seeds cannot be negative")
        self.directory.mkdir(parents=True, exist_ok=True)
        previous = sandbox_state.load_or_none(self.directory)
        family = family or FamilyPlan()
        layout = sandbox_layout(id_servers, dht_seeds, nodes, family.suppliers, family.plain_role)
        records = plan_nodes(self.directory, layout, previous, family.extras())
        live = self.running_nodes(previous) + [
            (r, pids) for r in records if (pids := self.launcher.pids(r)) and not _recorded(previous, r)
        ]
        if live:
            names = ", ".join(f"{r.name} (pid {pids[0]})" for r, pids in live)
            raise SandboxRunning(
                f"the sandbox in {self.directory} is already running: {names}; "
                f"stop it first with `bitdust sandbox down --dir {self.directory}`"
            )
        current = SandboxState(directory=self.directory, nodes=records)
        try:
            prepare_homes(records)
            offsets = {r.name: self.launcher.log_offset(r) for r in records}
            for record in records:
                self._reap(record.name, wait=REAP_TIMEOUT)  # a previous child of ours on this name
                process = self.launcher.spawn(record)
                self._processes[record.name] = process
                current = current.replace_node(record.with_pid(process.pid))
                sandbox_state.save(current)  # recorded at once, so `down` finds it whatever happens next
            self._wait_healthy(list(current.nodes), offsets, timeout)
            if id_servers and not bare:
                for record in list(current.nodes):
                    if role(record.role).has_identity:
                        identity = self.launcher.ensure_identity(record, record.name)
                        extra = dict(record.extra, global_id=identity["global_id"], idurl=identity["idurl"])
                        current = current.replace_node(attrs.evolve(record, extra=extra))
                sandbox_state.save(current)
        except BaseException:
            self._stop_all(current.nodes)
            sandbox_state.save(attrs.evolve(current, nodes=[r.with_pid(None) for r in current.nodes]))
            raise
        return current

    def _wait_healthy(self, records: list[NodeRecord], offsets: dict[str, int], timeout: float) -> None:
        deadline = self._clock() + timeout
        pending = {r.name: r for r in records}
        while True:
            for name, record in list(pending.items()):
                process = self._processes.get(name)
                code = process.poll() if process is not None else None
                if code is not None:
                    raise NodeStartFailed(
                        f"{name} exited with code {code} before answering process_health; "
                        f"the end of {record.home / 'logs' / 'stdout.log'}:\n"
                        f"{self.launcher.log_tail(record, offsets.get(name, 0))}"
                    )
                if self.launcher.health(record) is not None:
                    del pending[name]
            if not pending:
                return
            if self._clock() >= deadline:
                tails = "\n".join(
                    f"{name}:\n{self.launcher.log_tail(record, offsets.get(name, 0))}"
                    for name, record in pending.items()
                )
                raise NodeStartFailed(
                    f"{', '.join(pending)} did not answer process_health within {timeout:g} s; "
                    f"the end of their stdout logs:\n{tails}"
                )
            self._sleep(POLL_INTERVAL)

    def start_node(self, name: str, *, timeout: float = START_TIMEOUT) -> NodeRecord:
        """Start a stopped node again with its home folder and its ports; returns its new record."""
        current = self.load()
        record = current.node(name)
        pids = self.launcher.pids(record)
        if pids:
            raise SandboxRunning(f"{name} is already running (pid {pids[0]})")
        # a child of ours just killed still holds its sockets until its exit finishes: wait for that
        # first, or its own ports would look taken by another program
        self._reap(name, wait=REAP_TIMEOUT)
        taken = [p for p in (record.rest_port, record.ws_port) if not port_is_free(p)]
        if taken:
            raise SandboxError(f"cannot start {name}: port {', '.join(map(str, taken))} is taken by another program")
        offset = self.launcher.log_offset(record)
        process = self.launcher.spawn(record)
        self._processes[name] = process
        record = record.with_pid(process.pid)
        sandbox_state.save(current.replace_node(record))
        try:
            self._wait_healthy([record], {name: offset}, timeout)
        except BaseException:
            self._stop_all([record])
            sandbox_state.save(current.replace_node(record.with_pid(None)))
            raise
        return record

    # -- stopping --------------------------------------------------------------------------

    def down(self) -> list[NodeRecord]:
        """Stop every node (API first, then SIGTERM, SIGKILL last); returns those that were running.

        The homes and ``sandbox.json`` stay, so ``up`` in the same folder reuses them.
        """
        current = self.load()
        stopped = self._stop_all(current.nodes)
        sandbox_state.save(attrs.evolve(current, nodes=[r.with_pid(None) for r in current.nodes]))
        return stopped

    def stop_node(self, name: str) -> bool:
        """Stop one node; False when it was not running."""
        current = self.load()
        record = current.node(name)
        was_running = self._stop_record(record)
        sandbox_state.save(current.replace_node(record.with_pid(None)))
        return was_running

    def _stop_all(self, records: Iterable[NodeRecord]) -> list[NodeRecord]:
        records = list(records)
        if not records:
            return []
        with ThreadPoolExecutor(max_workers=min(16, len(records))) as pool:
            results = list(pool.map(self._stop_record, records))
        return [r for r, was_running in zip(records, results, strict=True) if was_running]

    def _stop_record(self, record: NodeRecord) -> bool:
        pids = self.launcher.pids(record)
        if not pids:
            self._reap(record.name, wait=REAP_TIMEOUT)
            return False
        signalled: set[int] = set()
        if not self.launcher.request_stop(record):
            self._signal(pids, SIGTERM, signalled)
        for signum, wait in ((None, STOP_TIMEOUT), (SIGTERM, TERM_TIMEOUT), (SIGKILL, KILL_TIMEOUT)):
            if signum is not None:
                signalled.clear()
                self._signal(self.launcher.pids(record), signum, signalled)
            if self._wait_gone(record, wait, pids, signalled):
                self._reap(record.name, wait=REAP_TIMEOUT)
                return True
        left = self.launcher.pids(record)
        raise SandboxError(f"{record.name} did not stop: pid {', '.join(map(str, left))} still running")

    def _wait_gone(self, record: NodeRecord, timeout: float, known: list[int], signalled: set[int]) -> bool:
        """Wait until no engine runs on the node's home; an engine spawned meanwhile (a restart's
        successor) gets SIGTERM, which stops it in order too."""
        deadline = self._clock() + timeout
        while True:
            self._reap(record.name)
            pids = self.launcher.pids(record)
            if not pids:
                return True
            newcomers = [p for p in pids if p not in known and p not in signalled]
            self._signal(newcomers, SIGTERM, signalled)
            if self._clock() >= deadline:
                return False
            self._sleep(POLL_INTERVAL)

    def _signal(self, pids: Iterable[int], signum: int, signalled: set[int]) -> None:
        for pid in pids:
            self.launcher.signal(pid, signum)
            signalled.add(pid)

    def _reap(self, name: str, wait: float = 0.0) -> None:
        """Collect the exit status of a child we spawned, so it does not linger as a zombie.

        ``wait`` is for a child already gone from the process table's engines but still exiting
        (its command line vanishes before it becomes waitable).
        """
        process = self._processes.get(name)
        if process is None:
            return
        if wait:
            try:
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                return
        if process.poll() is not None:
            del self._processes[name]


def _recorded(previous: SandboxState | None, record: NodeRecord) -> bool:
    return previous is not None and any(r.name == record.name for r in previous.nodes)


# -- the same operations as plain functions -------------------------------------------------


def up(
    directory: str | Path | None,
    nodes: int,
    *,
    dht_seeds: int = 0,
    timeout: float = START_TIMEOUT,
    family: FamilyPlan | None = None,
) -> SandboxState:
    return Sandbox(directory).up(nodes, dht_seeds=dht_seeds, timeout=timeout, family=family)


def status(directory: str | Path | None) -> list[NodeStatus]:
    return Sandbox(directory).status()


def down(directory: str | Path | None) -> list[NodeRecord]:
    return Sandbox(directory).down()


def stop_node(directory: str | Path | None, name: str) -> bool:
    return Sandbox(directory).stop_node(name)


def start_node(directory: str | Path | None, name: str, *, timeout: float = START_TIMEOUT) -> NodeRecord:
    return Sandbox(directory).start_node(name, timeout=timeout)
