"""``bitdust sandbox run``: a whole local network in the foreground, for ``make run``.

It brings the sandbox up, waits until the first node (``your`` node), when it is a customer, has
hired its suppliers, prints "ready" and how to talk to that node with curl, keeps
watching that every node is alive, and brings everything down on Ctrl-C or SIGTERM. A sandbox that
is already running in the folder is watched as it is and left running on exit, since this command
did not start it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from bitdust.main.process.paths import HomePaths
from bitdust.sandbox.errors import SandboxNotFound, SandboxRunning
from bitdust.sandbox.hiring import HIRE_TIMEOUT, SUPPLIERS_ROUTE, Hiring, HiringResult, wait_hired
from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.roles import CUSTOMER, NODE
from bitdust.sandbox.state import NodeRecord

WATCH_INTERVAL = 5.0


def curl_lines(record: NodeRecord) -> list[str]:
    """Shell lines that talk to ``record`` exactly as the API document shows, with its secret
    (and, for a customer, the line that lists its suppliers)."""
    secret_file = HomePaths(record.home).api_secret
    base = f"http://127.0.0.1:{record.rest_port}"
    lines = [
        f"SECRET=$(cat {secret_file})",
        f'curl -H "api_secret: $SECRET" {base}/process/health/v1',
        f'curl -H "api_secret: $SECRET" {base}/identity/get/v1',
        f'curl -H "api_secret: $SECRET" "{base}/network/status/v1?tcp=1&dht=1"',
    ]
    if record.role == CUSTOMER.name:
        lines.append(f'curl -H "api_secret: $SECRET" {base}/{SUPPLIERS_ROUTE}')
    return lines


#: Waits for a customer's family: (the customer, its family size, whether to give up) -> result.
WaitHired = Callable[[NodeRecord, int, Callable[[], bool]], HiringResult]


def _wait_hired(record: NodeRecord, wanted: int, stopped: Callable[[], bool], timeout: float) -> HiringResult:
    return wait_hired(record, wanted, timeout=timeout, stopped=stopped)


def hiring_lines(record: NodeRecord, result: HiringResult, timeout: float) -> list[str]:
    """What ``make run`` says about the customer's family before "ready"."""
    if result.outcome is Hiring.HIRED:
        return [f"{record.name} hired its {result.wanted} suppliers (all CONNECTED)"]
    if result.outcome is Hiring.NOT_AVAILABLE:
        return [f"hiring suppliers is not available yet: {record.name} has no {SUPPLIERS_ROUTE} (service_customer)"]
    why = f" ({result.detail})" if result.detail else ""
    return [
        f"{record.name} has {result.connected} of {result.wanted} suppliers CONNECTED after {timeout:g} s{why}; "
        f"it keeps hiring, see {SUPPLIERS_ROUTE} below"
    ]


class StopSignal(BaseException):
    """SIGINT or SIGTERM while the sandbox is still starting.

    Raised from the signal handler, like KeyboardInterrupt, so that ``Sandbox.up`` stops the
    nodes it has started so far on its way out. A BaseException, so no ``except Exception``
    on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run_foreground(
    box: Sandbox,
    *,
    up: Callable[[], Any],
    echo: Callable[[str], None],
    show: Callable[[list[NodeRecord]], None],
    stop_event: threading.Event | None = None,
    hire_timeout: float = HIRE_TIMEOUT,
    wait: WaitHired | None = None,
) -> int:
    """Start (or attach to) the sandbox, show it, wait for a signal, stop what we started.

    SIGTERM is handled exactly like Ctrl-C, from the first moment: the handlers are in place
    before the first node starts, so a process manager or ``timeout`` that stops us while the
    network is still coming up leaves no engine behind either. When your node is a customer,
    "ready" waits (up to ``hire_timeout``) until its family is hired (``wait``, polling its API by
    default). Returns 0 after a stop once the
    sandbox was up, 128 + the signal number when it was stopped while starting.
    """
    stop = stop_event or threading.Event()
    starting = True

    def on_signal(signum: int, _frame: Any) -> None:
        first = not stop.is_set()
        stop.set()
        if starting and first:  # a second signal never interrupts the clean-up the first one began
            raise StopSignal(signum)

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[signum] = signal.signal(signum, on_signal)
        except ValueError:  # not the main thread (tests): the caller sets stop_event instead
            pass
    started_here = True
    code = 0
    try:
        try:
            up()
        except SandboxRunning:
            started_here = False
            echo(f"a sandbox is already running in {box.directory}; watching it (it keeps running after Ctrl-C)")
        starting = False
        waiter = wait or (lambda record, wanted, stopped: _wait_hired(record, wanted, stopped, hire_timeout))
        _watch(box, echo=echo, show=show, stop=stop, wait=waiter, hire_timeout=hire_timeout)
    except StopSignal as interrupted:
        echo(f"stopped by signal {interrupted.signum} while starting")
        code = 128 + interrupted.signum
    finally:
        starting = False
        try:
            if started_here:
                echo("stopping the sandbox ...")
                try:
                    box.down()
                except SandboxNotFound:  # stopped before it recorded any node: nothing runs
                    pass
        finally:
            # only now: a second Ctrl-C or SIGTERM (``timeout`` and ``make`` both pass one on)
            # while the nodes stop must not kill us with engines left running
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return code


def _watch(
    box: Sandbox,
    *,
    echo: Callable[[str], None],
    show: Callable[[list[NodeRecord]], None],
    stop: threading.Event,
    wait: WaitHired,
    hire_timeout: float,
) -> None:
    """Show the running sandbox and how to reach it, then report nodes that die until ``stop``."""
    nodes = list(box.load().nodes)
    show(nodes)
    yours = next((r for r in nodes if r.role in (NODE.name, CUSTOMER.name)), None)
    ready = "ready: "
    if yours is not None and yours.role == CUSTOMER.name:
        wanted = int(yours.extra.get("suppliers_number") or 0)
        echo(f"\nwaiting for {yours.name} to hire its {wanted} suppliers (up to {hire_timeout:g} s) ...")
        result = wait(yours, wanted, stop.is_set)
        if stop.is_set():
            return
        for line in hiring_lines(yours, result, hire_timeout):
            echo(line)
        if result.outcome is Hiring.TIMED_OUT:  # usable, but not what "ready" promises
            ready = "not ready yet: "
    if yours is not None:
        echo(f"\n{ready}your node is {yours.name}; for example:\n")
        for line in curl_lines(yours):
            echo("    " + line)
        echo(f"\nor: .venv/bin/bitdust api --basedir {yours.home} network_status tcp=1")
    echo("\nCtrl-C stops the sandbox.")
    reported: set[str] = set()
    while not stop.wait(WATCH_INTERVAL):
        for row in box.status():
            if not row.running and row.record.name not in reported:
                reported.add(row.record.name)
                echo(f"{row.record.name} is not running any more (see {row.record.home}/logs/main.log)")
