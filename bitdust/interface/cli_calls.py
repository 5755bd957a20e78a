"""How the ``bitdust`` command reaches a running engine and reports back to the shell.

One API call (exit code 3 when no engine answers), the result or an exit with the engine's errors,
a health probe, and polling with a deadline: the pieces every command of :mod:`bitdust.interface.cli`
is made of.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from bitdust.interface.client import ApiClient, EngineNotRunning
from bitdust.main.process.paths import default_home

EXIT_ERROR = 1
EXIT_NOT_RUNNING = 3


def home_of(basedir: Path | None) -> Path:
    return default_home(basedir)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    click.echo(f"bitdust: {message}", err=True)
    sys.exit(code)


def print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def call(
    home: Path, verb: str, path: str, params: dict[str, Any] | None = None, *, timeout: float = 30
) -> dict[str, Any]:
    """Call the API and return the envelope; exits 3 when the engine does not answer."""
    try:
        with ApiClient(home, timeout=timeout) as client:
            _, envelope = client.request(verb, path, params)
    except EngineNotRunning:
        fail(f"the engine is not running on {home}; start it with `bitdust start`", EXIT_NOT_RUNNING)
    except OSError as exc:
        fail(f"cannot reach the engine on {home}: {exc}", EXIT_NOT_RUNNING)
    return envelope


def result_or_exit(envelope: dict[str, Any]) -> Any:
    if envelope.get("status") != "OK":
        fail("; ".join(envelope.get("errors") or ["unknown error"]))
    return envelope.get("result")


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def healthy(home: Path) -> dict[str, Any] | None:
    try:
        with ApiClient(home, timeout=2) as client:
            status, envelope = client.request("GET", "process/health/v1")
    except (EngineNotRunning, OSError):
        return None
    return envelope.get("result") if status == 200 and envelope.get("status") == "OK" else None
