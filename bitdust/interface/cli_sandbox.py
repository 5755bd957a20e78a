"""``bitdust sandbox``: a local network of engine processes on loopback.

Exit codes: 0 success, 1 failure (the reason on stderr), 3 (``status``) the sandbox is not running.
With ``--json`` stdout carries exactly one JSON object: ``{"dir": ..., "nodes": [...]}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from bitdust.main.settings.config_types import ConfigValueError, Size
from bitdust.sandbox.errors import SandboxError, SandboxNotFound
from bitdust.sandbox.family import DEFAULT_DONATED_SPACE, DEFAULT_NEEDED_SPACE, FamilyPlan, plan_family
from bitdust.sandbox.hiring import HIRE_TIMEOUT
from bitdust.sandbox.network import START_TIMEOUT, NodeStatus, Sandbox
from bitdust.sandbox.state import DIR_ENV, NodeRecord, default_dir

EXIT_ERROR = 1
EXIT_NOT_RUNNING = 3

dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"sandbox folder (default: ${DIR_ENV} or ~/.bitdust-sandbox)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON object, nothing else")


class SizeParam(click.ParamType):
    """A number of bytes as people write it (``256 MB``, ``1GB``, ``1048576``), like the config's sizes."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return Size().parse(value)
        except ConfigValueError:
            self.fail(f"{value!r} is not a size such as 256 MB or a number of bytes", param, ctx)


def family_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--suppliers K`` and the settings of the suppliers and the customers that hire them."""
    decorators = [
        click.option(
            "--suppliers",
            type=click.IntRange(0, 200),
            default=0,
            show_default=True,
            help="how many suppliers (supplier-1, ...: service_supplier on, donating space); "
            "with suppliers, the plain nodes are customers that hire them",
        ),
        click.option(
            "--suppliers-number",
            type=click.IntRange(1, 64),
            default=None,
            help="the size of each customer's family, an ECC map size (2, 4, 7, ...); "
            "default: min(suppliers, 4) rounded down to one",
        ),
        click.option(
            "--donated-space",
            type=SizeParam(),
            default=DEFAULT_DONATED_SPACE,
            show_default="256 MB",
            help="what each supplier donates (at least 64 MB)",
        ),
        click.option(
            "--needed-space",
            type=SizeParam(),
            default=DEFAULT_NEEDED_SPACE,
            show_default="32 MB",
            help="what each customer asks of its family in all",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _family(suppliers: int, suppliers_number: int | None, donated_space: int, needed_space: int) -> FamilyPlan:
    try:
        return plan_family(suppliers, suppliers_number, donated_space=donated_space, needed_space=needed_space)
    except SandboxError as exc:
        _fail(exc.message)


def _fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    click.echo(f"bitdust sandbox: {message}", err=True)
    sys.exit(code)


def _open(ctx: click.Context, directory: Path | None) -> Sandbox:
    """The sandbox in ``directory``; tests hand in a factory as ``ctx.obj.sandbox_factory``."""
    factory: Callable[[Path], Sandbox] = getattr(ctx.obj, "sandbox_factory", None) or Sandbox
    return factory(default_dir(directory))


def _print_json(directory: Path, nodes: list[dict[str, Any]]) -> None:
    click.echo(json.dumps({"dir": str(directory), "nodes": nodes}, indent=2))


def _print_table(title: str, rows: list[dict[str, Any]], with_state: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    # role-specific columns only when some node has them, so a plain sandbox stays narrow
    optional = [
        (label, key)
        for label, key in (
            ("ID port", "id_port"),
            ("TCP port", "tcp_port"),
            ("global id", "global_id"),
            ("donates", "donated_space"),
            ("family", "suppliers_number"),
        )
        if any(r.get(key) for r in rows)
    ]
    for column in ("name", "role", "pid", "REST port", "WS port", *(label for label, _ in optional)):
        table.add_column(column, justify="right" if "port" in column or column == "pid" else "left", no_wrap=True)
    table.add_column("home", overflow="fold")  # a long path folds over lines, never loses its end
    if with_state:
        table.add_column("state")
    for row in rows:
        cells = [row["name"], row["role"], str(row["pid"] or "-"), str(row["rest_port"]), str(row["ws_port"])]
        cells += [_cell(row, key) for _, key in optional]
        cells.append(row["home"])
        if with_state:
            cells.append(_state_text(row))
        table.add_row(*cells)
    # Not a terminal (make, a pipe): rich would squeeze the table into 80 columns.
    Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160).print(table)


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if not value:
        return "-"
    if key == "donated_space" and isinstance(value, int):
        return Size().serialize(value)
    return str(value)


def _state_text(row: dict[str, Any]) -> str:
    if not row.get("running"):
        return "stopped"
    if not row.get("healthy"):
        return "not answering"
    return str(row.get("state") or "running")


@click.group()
def sandbox() -> None:
    """A local network of separate engine processes on loopback, for trying and testing BitDust."""


@sandbox.command()
@click.option("--nodes", type=click.IntRange(1, 200), default=3, show_default=True, help="how many plain nodes")
@click.option(
    "--id-servers", type=click.IntRange(0, 26), default=2, show_default=True, help="how many identity servers"
)
@click.option(
    "--dht-seeds", type=click.IntRange(0, 50), default=3, show_default=True, help="how many DHT seeds (dht-1, ...)"
)
@family_options
@click.option("--bare", is_flag=True, help="plain nodes start without an identity (ready for identity_create)")
@click.option("--timeout", type=float, default=START_TIMEOUT, show_default=True, help="seconds to wait for each node")
@dir_option
@json_option
@click.pass_context
def up(
    ctx: click.Context,
    nodes: int,
    id_servers: int,
    dht_seeds: int,
    suppliers: int,
    suppliers_number: int | None,
    donated_space: int,
    needed_space: int,
    bare: bool,
    timeout: float,
    directory: Path | None,
    as_json: bool,
) -> None:
    """Start NODES engines, each with its own home folder and free ports, and wait until they answer."""
    family = _family(suppliers, suppliers_number, donated_space, needed_space)
    box = _open(ctx, directory)
    try:
        current = box.up(nodes, id_servers=id_servers, dht_seeds=dht_seeds, bare=bare, timeout=timeout, family=family)
    except SandboxError as exc:
        _fail(exc.message)
    rows = [record.to_json() for record in current.nodes]
    if as_json:
        _print_json(box.directory, rows)
        return
    _print_table(f"BitDust sandbox in {box.directory}", rows, with_state=False)
    click.echo(f"stop it with: bitdust sandbox down --dir {box.directory}")


@sandbox.command("run")
@click.option("--nodes", type=click.IntRange(1, 200), default=3, show_default=True, help="how many plain nodes")
@click.option(
    "--id-servers", type=click.IntRange(0, 26), default=2, show_default=True, help="how many identity servers"
)
@click.option(
    "--dht-seeds", type=click.IntRange(0, 50), default=3, show_default=True, help="how many DHT seeds (dht-1, ...)"
)
@family_options
@click.option("--timeout", type=float, default=START_TIMEOUT, show_default=True, help="seconds to wait for each node")
@click.option(
    "--hire-timeout",
    type=float,
    default=HIRE_TIMEOUT,
    show_default=True,
    help="seconds to wait for your node's suppliers to be hired before saying ready",
)
@dir_option
@click.pass_context
def run_command(
    ctx: click.Context,
    nodes: int,
    id_servers: int,
    dht_seeds: int,
    suppliers: int,
    suppliers_number: int | None,
    donated_space: int,
    needed_space: int,
    timeout: float,
    hire_timeout: float,
    directory: Path | None,
) -> None:
    """Start a whole local network in the foreground, show how to reach it, stop it on Ctrl-C."""
    from bitdust.sandbox.foreground import run_foreground

    family = _family(suppliers, suppliers_number, donated_space, needed_space)
    box = _open(ctx, directory)
    try:
        code = run_foreground(
            box,
            up=lambda: box.up(nodes, id_servers=id_servers, dht_seeds=dht_seeds, timeout=timeout, family=family),
            hire_timeout=hire_timeout,
            echo=click.echo,
            show=lambda records: _print_table(
                f"BitDust sandbox in {box.directory}", [r.to_json() for r in records], with_state=False
            ),
        )
    except SandboxError as exc:
        _fail(exc.message)
    sys.exit(code)


@sandbox.command()
@dir_option
@json_option
@click.pass_context
def status(ctx: click.Context, directory: Path | None, as_json: bool) -> None:
    """Show each node: pid, ports, home, and whether it runs and answers (exit 3 when none runs)."""
    box = _open(ctx, directory)
    try:
        statuses: list[NodeStatus] = box.status()
    except SandboxNotFound as exc:
        if as_json:
            _print_json(box.directory, [])
        _fail(exc.message, EXIT_NOT_RUNNING)
    except SandboxError as exc:
        _fail(exc.message)
    rows = [item.to_json() for item in statuses]
    if as_json:
        _print_json(box.directory, rows)
    else:
        _print_table(f"BitDust sandbox in {box.directory}", rows, with_state=True)
    if not any(item.running for item in statuses):
        if not as_json:
            click.echo("the sandbox is not running", err=True)
        sys.exit(EXIT_NOT_RUNNING)


@sandbox.command()
@dir_option
@click.pass_context
def down(ctx: click.Context, directory: Path | None) -> None:
    """Stop every node of the sandbox; the home folders stay."""
    box = _open(ctx, directory)
    try:
        stopped: list[NodeRecord] = box.down()
    except SandboxError as exc:
        _fail(exc.message)
    if stopped:
        click.echo(f"stopped {', '.join(r.name for r in stopped)}; homes kept in {box.directory}")
    else:
        click.echo(f"nothing was running in {box.directory}")


@sandbox.command()
@click.argument("name")
@dir_option
@click.pass_context
def stop(ctx: click.Context, name: str, directory: Path | None) -> None:
    """Stop the node NAME (e.g. node-2)."""
    box = _open(ctx, directory)
    try:
        was_running = box.stop_node(name)
    except SandboxError as exc:
        _fail(exc.message)
    click.echo(f"{name} stopped" if was_running else f"{name} was not running")


@sandbox.command()
@click.argument("name")
@click.option("--timeout", type=float, default=START_TIMEOUT, show_default=True, help="seconds to wait for the node")
@dir_option
@click.pass_context
def start(ctx: click.Context, name: str, timeout: float, directory: Path | None) -> None:
    """Start the stopped node NAME again, with its home folder and its ports."""
    box = _open(ctx, directory)
    try:
        record = box.start_node(name, timeout=timeout)
    except SandboxError as exc:
        _fail(exc.message)
    click.echo(f"{name} started (pid {record.pid}, REST port {record.rest_port}, WS port {record.ws_port})")
