"""Running one engine as a process: the reactor, global logging, exit codes and restarts.

This is the only place that touches process-wide things (the global reactor, Twisted's global
log, ``sys.exit`` codes, spawning the successor on restart); the Engine itself stays free of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1


def successor_command(home: Path) -> list[str]:
    """The command line of the engine that replaces this one on ``process_restart``."""
    return [sys.executable, "-m", "bitdust", "run", "--basedir", str(home), "--wait-lock", "30", "--quiet"]


def spawn_detached(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out, open(os.devnull, "rb") as devnull:
        return subprocess.Popen(
            command, stdin=devnull, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True
        )


def run_engine(
    home: Path,
    *,
    rest_port: int | None = None,
    ws_port: int | None = None,
    wait_lock: float = 0.0,
    echo: bool = True,
) -> int:
    """Run an engine on ``home`` in the foreground until it stops; returns the exit code."""
    from twisted.internet import reactor

    from bitdust.main.process.malloc_tuning import tune_malloc

    tune_malloc()
    from twisted.logger import globalLogBeginner

    from bitdust.node.composition import create_engine

    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    engine = create_engine(
        home,
        reactor=reactor,
        rest_port=rest_port,
        ws_port=ws_port,
        terminal=terminal,
        owns_reactor=True,
        wait_lock=wait_lock,
    )
    globalLogBeginner.beginLoggingTo([engine.logging.publisher], discardBuffer=True, redirectStandardIO=False)
    if echo:
        engine.logging.to_stream(sys.stdout)

    def announce(_: object) -> None:
        api = engine.api
        if not echo or api is None:  # the engine is ready only once its local API has started
            return
        print(
            f"BitDust engine ready (pid {engine.pid}) in {engine.paths.home}\n"
            f"  REST:      http://127.0.0.1:{api.rest_port}/process/health/v1\n"
            f"  WebSocket: ws://127.0.0.1:{api.ws_port}/?api_secret=<secret>\n"
            f"  secret:    {engine.paths.api_secret}\n"
            f'  try:       curl -H "api_secret: $(cat {engine.paths.api_secret})" '
            f"http://127.0.0.1:{api.rest_port}/process/info/v1",
            flush=True,
        )

    engine.ready.addCallbacks(announce, lambda _: None)
    reactor.addSystemEventTrigger("before", "shutdown", engine.stopService)
    reactor.callWhenRunning(engine.startService)
    reactor.run()
    if engine.startup_error:
        print(f"bitdust: engine failed to start: {engine.startup_error}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    if engine.restart_requested:
        spawn_detached(successor_command(engine.paths.home), engine.paths.logs / "stdout.log")
    return EXIT_OK
