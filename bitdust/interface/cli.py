"""The ``bitdust`` command: runs the engine and talks to it through the REST API.

Exit codes scripts can rely on: 0 success, 1 the engine answered with an error or an
operation failed, 2 bad usage, 3 the engine is not running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bitdust import __version__
from bitdust.interface.cli_calls import (
    EXIT_ERROR,
    EXIT_NOT_RUNNING,
    call,
    fail,
    healthy,
    home_of,
    print_json,
    result_or_exit,
    wait_until,
)
from bitdust.interface.client import ApiClient, EngineNotRunning, engine_pid

START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0

basedir_option = click.option(
    "--basedir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="home folder of the node (default: $BITDUST_HOME or ~/.bitdust)",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bitdust")
def cli() -> None:
    """BitDust: a peer-to-peer network for encrypted backups and private messages.

    The engine runs in the background and is driven through its local API; these commands
    are a client of that API.
    """


@cli.command("help")
@click.pass_context
def help_command(ctx: click.Context) -> None:
    """Show this help."""
    click.echo(ctx.parent.get_help() if ctx.parent else ctx.get_help())


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _port_options(func: _Command) -> _Command:
    func = click.option("--ws-port", type=click.IntRange(1, 65535), default=None, help="WebSocket API port")(func)
    func = click.option("--rest-port", type=click.IntRange(1, 65535), default=None, help="REST API port")(func)
    return basedir_option(func)


@cli.command()
@_port_options
@click.option("--wait-lock", type=float, default=0.0, hidden=True)
@click.option("--quiet", is_flag=True, help="do not echo the log to the terminal")
def run(basedir: Path | None, rest_port: int | None, ws_port: int | None, wait_lock: float, quiet: bool) -> None:
    """Run the engine in the foreground (Ctrl-C stops it)."""
    from bitdust.node.runner import run_engine

    sys.exit(run_engine(home_of(basedir), rest_port=rest_port, ws_port=ws_port, wait_lock=wait_lock, echo=not quiet))


@cli.command()
@_port_options
def start(basedir: Path | None, rest_port: int | None, ws_port: int | None) -> None:
    """Start the engine in the background; returns once its API answers."""
    from bitdust.node.runner import spawn_detached

    home = home_of(basedir)
    pid = engine_pid(home)
    if pid:
        click.echo(f"BitDust engine is already running (pid {pid}) in {home}")
        return
    command = [sys.executable, "-m", "bitdust", "run", "--basedir", str(home), "--quiet"]
    if rest_port:
        command += ["--rest-port", str(rest_port)]
    if ws_port:
        command += ["--ws-port", str(ws_port)]
    log_path = home / "logs" / "stdout.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    process = spawn_detached(command, log_path)

    def up() -> bool:
        return process.poll() is not None or healthy(home) is not None

    wait_until(up, START_TIMEOUT)
    if process.poll() is not None or healthy(home) is None:
        with open(log_path, "rb") as log:
            log.seek(offset)
            tail = log.read().decode("utf-8", "replace").strip().splitlines()[-10:]
        if process.poll() is None:
            process.terminate()
        fail("the engine did not start:\n  " + "\n  ".join(tail))
    failed = _failed_services(home)
    if failed:
        # An engine whose TCP or DHT service could not listen is no node: stop it, so that the
        # user fixes the cause (a port taken by another engine, say) and starts it again cleanly.
        _stop(home)
        try:
            process.wait(timeout=STOP_TIMEOUT)  # gone, not only its pid file
        except subprocess.TimeoutExpired:
            process.kill()
        lines = [f"{item['name']}: {item.get('reason') or 'failed'}" for item in failed]
        fail(
            f"the engine (pid {process.pid}) started but {len(failed)} service(s) failed, so it was stopped:\n  "
            + "\n  ".join(lines)
        )
    click.echo(f"BitDust engine started (pid {process.pid}) in {home}")


#: service states that are still changing; ``start`` waits for them to settle before judging
_SERVICE_TRANSITIONS = frozenset({"STARTING", "STOPPING"})


def _failed_services(home: Path) -> list[dict[str, Any]]:
    """The enabled services in state FAILED once none is starting or stopping any more."""
    services: list[dict[str, Any]] = []

    def settled() -> bool:
        nonlocal services
        envelope = call(home, "GET", "service/list/v1", timeout=10)
        services = envelope.get("result") or [] if envelope.get("status") == "OK" else []
        return bool(services) and not any(item.get("state") in _SERVICE_TRANSITIONS for item in services)

    wait_until(settled, START_TIMEOUT, interval=0.2)
    return [item for item in services if item.get("enabled") and item.get("state") == "FAILED"]


def _stop(home: Path) -> int | None:
    pid = engine_pid(home)
    if not pid:
        return None
    try:
        with ApiClient(home, timeout=10) as client:
            client.request("GET", "process/stop/v1")
    except (EngineNotRunning, OSError):
        os.kill(pid, signal.SIGTERM)  # the API does not answer: SIGTERM also stops it in order
    if not wait_until(lambda: engine_pid(home) is None, STOP_TIMEOUT):
        fail(f"the engine (pid {pid}) did not stop within {STOP_TIMEOUT:.0f} s")
    return pid


@cli.command()
@basedir_option
def stop(basedir: Path | None) -> None:
    """Stop the engine in order and wait until the process is gone."""
    home = home_of(basedir)
    pid = _stop(home)
    if pid is None:
        fail(f"the engine is not running on {home}", EXIT_NOT_RUNNING)
    click.echo(f"BitDust engine stopped (pid {pid})")


@cli.command()
@basedir_option
@click.pass_context
def restart(ctx: click.Context, basedir: Path | None) -> None:
    """Restart the engine (or start it when it is not running)."""
    home = home_of(basedir)
    old = engine_pid(home)
    if old:
        result_or_exit(call(home, "GET", "process/restart/v1", timeout=10))

        def replaced() -> bool:
            health = healthy(home)
            return health is not None and engine_pid(home) not in (None, old)

        if not wait_until(replaced, START_TIMEOUT):
            fail("the engine did not come back after the restart")
        click.echo(f"BitDust engine restarted (pid {old} -> {engine_pid(home)})")
        return
    ctx.invoke(start, basedir=basedir, rest_port=None, ws_port=None)


@cli.command()
@basedir_option
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def status(basedir: Path | None, as_json: bool) -> None:
    """Say whether the engine runs, and where."""
    home = home_of(basedir)
    pid = engine_pid(home)
    info = None
    if pid:
        envelope = call(home, "GET", "process/info/v1", timeout=5)
        info = envelope.get("result")
    if as_json:
        print_json({"running": bool(pid and info), "home": str(home), "info": info})
    elif pid and info:
        click.echo(
            f"BitDust engine is running: pid {info['pid']}, state {info['engine_state']}, "
            f"REST port {info['api']['rest_port']}, WebSocket port {info['api']['ws_port']}, home {home}"
        )
    else:
        click.echo(f"BitDust engine is not running on {home}")
    if not (pid and info):
        sys.exit(EXIT_NOT_RUNNING)


def _parse_value(text: str) -> object:
    """``key=value`` arguments: JSON when it parses (numbers, lists, objects), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@cli.command("api", context_settings={"ignore_unknown_options": True})
@basedir_option
@click.argument("method")
@click.argument("arguments", nargs=-1)
def api_command(basedir: Path | None, method: str, arguments: tuple[str, ...]) -> None:
    """Call any API METHOD with key=value arguments; prints the JSON answer.

    Example: bitdust api config_get key=logs/debug-level
    """
    from bitdust.interface.api.catalog import all_specs

    specs = {spec.name: spec for spec in all_specs()}
    spec = specs.get(method)
    if spec is None:
        fail(f"unknown API method {method!r}; known: {', '.join(sorted(specs))}", 2)
    params: dict[str, Any] = {}
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if not sep or not key:
            fail(f"arguments are key=value, got {argument!r}", 2)
        params[key] = _parse_value(value)
    path = spec.path
    for param in spec.params:
        if param.in_path:
            if param.name not in params:
                fail(f"{method} needs {param.name}=...", 2)
            path = path.replace("{" + param.name + "}", str(params.pop(param.name)))
    envelope = call(home_of(basedir), spec.verb, path, params, timeout=120)
    print_json(envelope)
    if envelope.get("status") != "OK":
        sys.exit(EXIT_ERROR)


@cli.group()
def config() -> None:
    """Read and change the engine's settings."""


@config.command("get")
@basedir_option
@click.argument("key")
def config_get(basedir: Path | None, key: str) -> None:
    """Print one option (or the options under a folder key)."""
    result = result_or_exit(call(home_of(basedir), "GET", "config/get/v1", {"key": key}))
    print_json(result)


@config.command("set")
@basedir_option
@click.argument("key")
@click.argument("value")
def config_set(basedir: Path | None, key: str, value: str) -> None:
    """Change one option."""
    result = result_or_exit(call(home_of(basedir), "POST", "config/set/v1", {"key": key, "value": value}))
    print_json(result)


@config.command("list")
@basedir_option
def config_list(basedir: Path | None) -> None:
    """List every option with its value."""
    result = result_or_exit(call(home_of(basedir), "GET", "config/list/v1", {"sort": True}))
    for item in result:
        click.echo(f"{item['key']} = {json.dumps(item['value'])}")


@cli.command()
@basedir_option
def services(basedir: Path | None) -> None:
    """List the engine's services and their states."""
    result = result_or_exit(call(home_of(basedir), "GET", "service/list/v1"))
    if not result:
        click.echo("no services")
    for item in result:
        flag = "enabled" if item["enabled"] else "disabled"
        click.echo(f"{item['name']:40} {item['state']:14} {flag}")


@cli.group(invoke_without_command=True)
@basedir_option
@click.pass_context
def automats(ctx: click.Context, basedir: Path | None) -> None:
    """List the engine's live state machines (or draw one: `automats diagram NAME`)."""
    if ctx.invoked_subcommand is not None:
        return
    result = result_or_exit(call(home_of(basedir), "GET", "automat/list/v1"))
    for item in result:
        click.echo(f"{item['index']:>5}  {item['id']:40} {item['state']}")


@automats.command("diagram")
@basedir_option
@click.argument("name")
@click.option("--live", is_flag=True, help="highlight the states of the running engine's machines")
@click.option("--format", "fmt", type=click.Choice(["dot", "svg"]), default="dot", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="write to a file")
def automats_diagram(basedir: Path | None, name: str, live: bool, fmt: str, output: Path | None) -> None:
    """Draw the state machine NAME (e.g. initializer) as DOT or SVG."""
    if live:
        result = result_or_exit(
            call(home_of(basedir), "GET", "automat/diagram/v1", {"name": name, "live": True, "format": fmt})
        )
        text = result["diagram"]
    else:
        text = _offline_diagram(name, fmt)
    if output is not None:
        output.write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


def _offline_diagram(name: str, fmt: str) -> str:
    from bitdust.automats import diagram
    from bitdust.automats.source import parse_source
    from bitdust.interface.api.automats import sources_dir
    from bitdust.main.errors import BitDustError

    try:
        dot = diagram.to_dot(parse_source(diagram.find_source(name, sources_dir())), {})
        return dot if fmt == "dot" else diagram.render_svg(dot).decode("utf-8")
    except BitDustError as exc:
        fail(exc.message)


def _attach_sandbox() -> None:
    from bitdust.interface.cli_sandbox import sandbox

    cli.add_command(sandbox)


_attach_sandbox()


def main() -> None:
    cli(prog_name="bitdust")
