"""Options registered after load (by services, on the reactor thread) never touch the disk there.

Their files are read, and the missing ones written with the default, by one ``run_blocking`` job
per ``registering()`` block. Here ``run_blocking`` is a queue the test empties by running each job
in a real worker thread, while every file-system call is recorded with the thread that made it.
"""

from __future__ import annotations

import builtins
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.logger import Logger

from bitdust.automats.registry import AutomatRegistry
from bitdust.main.events import EventBus
from bitdust.main.service_framework.service import BitDustService
from bitdust.main.service_framework.service_manager import ServiceManager
from bitdust.main.settings.config import Config
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Bool, Int
from bitdust.node.composition import create_engine

QUIET = Logger(observer=lambda event: None)


class QueuedRunner:
    """A ``run_blocking`` that keeps each job until :meth:`run_all` runs it in a worker thread."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[..., Any], tuple[Any, ...], defer.Deferred[Any]]] = []

    def __call__(self, fn: Callable[..., Any], *args: Any) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.jobs.append((fn, args, d))
        return d

    def run_all(self) -> None:
        while self.jobs:
            fn, args, d = self.jobs.pop(0)
            box: list[Any] = []
            worker = threading.Thread(target=lambda fn=fn, args=args, box=box: box.append(fn(*args)))
            worker.start()
            worker.join()
            d.callback(box[0])


class DiskCalls:
    """Records which threads open, stat, write, rename or fsync anything while installed."""

    NAMES = ("open", "stat", "lstat", "fsync", "replace", "rename", "mkdir", "scandir", "listdir", "unlink")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[tuple[int, str]] = []
        for name in self.NAMES:
            monkeypatch.setattr(os, name, self._wrap(getattr(os, name), name))
        monkeypatch.setattr(io, "open", self._wrap(io.open, "io.open"))
        monkeypatch.setattr(builtins, "open", self._wrap(builtins.open, "builtins.open"))

    def _wrap(self, real: Callable[..., Any], name: str) -> Callable[..., Any]:
        def recording(*args: Any, **kwargs: Any) -> Any:
            self.threads.append((threading.get_ident(), name))
            return real(*args, **kwargs)

        return recording

    def on_this_thread(self) -> list[str]:
        me = threading.get_ident()
        return [name for ident, name in self.threads if ident == me]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    (path / "services" / "supplier").mkdir(parents=True)
    (path / "services" / "supplier" / "enabled").write_text("false\n")
    return path


def loaded(folder: Path, runner: QueuedRunner) -> Config:
    config = Config(folder, log=QUIET, run_blocking=runner)
    config.load()  # blocking by design: the engine calls it in its worker-thread step
    return config


SUPPLIER = Option("services/supplier/enabled", Bool(), True, "start service_supplier")
CUSTOMER = Option("services/customer/enabled", Bool(), True, "start service_customer")
LIMIT = Option("services/customer/limit", Int(min=0), 5, "a number")


def test_register_after_load_does_no_disk_io_on_the_calling_thread(folder, monkeypatch):
    runner = QueuedRunner()
    config = loaded(folder, runner)
    disk = DiskCalls(monkeypatch)

    with config.registering():
        config.register(SUPPLIER)
        config.register(CUSTOMER)
    config.register(LIMIT)  # outside a block: a job of its own

    assert disk.on_this_thread() == []
    assert len(runner.jobs) == 1  # the second waits for the first: file jobs run in order
    assert not (folder / "services" / "customer").exists()
    disk.threads.clear()  # that check was the test's own
    assert config.get("services/supplier/enabled") is True  # the default until the file is read

    runner.run_all()
    assert disk.threads and disk.on_this_thread() == []  # all of it happened in the workers
    assert config.get("services/supplier/enabled") is False
    assert config.get("services/customer/enabled") is True
    assert (folder / "services" / "customer" / "enabled").read_text() == "true\n"
    assert (folder / "services" / "customer" / "limit").read_text() == "5\n"
    assert (folder / "services" / "supplier" / "enabled").read_text() == "false\n"


def test_settled_fires_after_the_registration_job(folder):
    runner = QueuedRunner()
    config = loaded(folder, runner)
    with config.registering():
        config.register(SUPPLIER)
    settled = config.settled()
    assert not settled.called
    runner.run_all()
    assert settled.called and config.get("services/supplier/enabled") is False


def test_a_file_read_on_registration_notifies_like_a_reload(folder):
    runner = QueuedRunner()
    config = loaded(folder, runner)
    heard: list[tuple[str, Any, Any]] = []
    config.add_listener(lambda key, new, old: heard.append((key, new, old)))
    config.register(SUPPLIER)
    config.register(CUSTOMER)
    runner.run_all()
    assert heard == [("services/supplier/enabled", False, True)]


@pytest.mark.parametrize("set_before_the_job_runs", [True, False])
def test_a_value_set_while_the_file_is_read_wins(folder, set_before_the_job_runs):
    runner = QueuedRunner()
    config = loaded(folder, runner)
    config.register(CUSTOMER)
    fn, args, d = runner.jobs.pop(0)
    if set_before_the_job_runs:
        config.set("services/customer/enabled", False)
        result = fn(*args)
    else:
        result = fn(*args)  # creates the default file "true"
        config.set("services/customer/enabled", False)
    d.callback(result)
    assert config.get("services/customer/enabled") is False
    assert (folder / "services" / "customer" / "enabled").read_text() == "false\n"
    again = Config(folder, (CUSTOMER,), log=QUIET)
    again.load()
    assert again.get("services/customer/enabled") is False


def test_a_failed_default_write_is_logged_and_changes_nothing(folder, monkeypatch):
    events: list[dict[str, Any]] = []
    runner = QueuedRunner()
    config = Config(folder, log=Logger(observer=events.append), run_blocking=runner)
    config.load()

    def disk_full(path, data, mode=0o644):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bitdust.main.settings.config_files.atomic_write", disk_full)
    config.register(CUSTOMER)
    runner.run_all()
    assert config.get("services/customer/enabled") is True
    assert [e["key"] for e in events if e.get("key")] == ["services/customer/enabled"]


# -- the service manager -----------------------------------------------------------------------


class Named(BitDustService):
    def __init__(self, engine: Any, name: str, started: list[str]) -> None:
        super().__init__(engine)
        self.name = name
        self.started = started

    def options(self) -> tuple[Option, ...]:
        return (Option(f"{self.config_prefix()}/limit", Int(min=0), 5, "a number"),)

    def start(self) -> None:
        self.started.append(self.name)


def test_add_all_reads_every_option_in_one_job_before_any_service_starts(folder, monkeypatch):
    runner = QueuedRunner()
    config = loaded(folder, runner)
    clock = task.Clock()
    manager = ServiceManager(config=config, events=EventBus(clock), automats=AutomatRegistry(strict=True), clock=clock)
    started: list[str] = []
    disk = DiskCalls(monkeypatch)

    manager.add_all(
        [lambda e: Named(e, "service_supplier", started), lambda e: Named(e, "service_customer", started)], None
    )
    done = manager.start_enabled()
    clock.advance(0)

    assert disk.on_this_thread() == []
    assert len(runner.jobs) == 1  # four options, one job
    assert started == [] and not done.called
    runner.run_all()
    for _ in range(100):
        if done.called:
            break
        clock.advance(0)
    assert started == ["service_customer"]  # the supplier's file says false
    assert done.called
    assert (folder / "services" / "customer" / "limit").read_text() == "5\n"


# -- a whole engine ----------------------------------------------------------------------------


class Quiet(BitDustService):
    def __init__(self, engine: Any, name: str) -> None:
        super().__init__(engine)
        self.name = name

    def options(self) -> tuple[Option, ...]:
        return tuple(Option(f"{self.config_prefix()}/option-{i}", Int(), i, "a number") for i in range(5))


@pytest_twisted.inlineCallbacks
def test_engine_startup_fsyncs_nothing_on_the_reactor_thread(tmp_path, monkeypatch):
    on_reactor: list[str] = []
    real_fsync = os.fsync
    reactor_thread = threading.get_ident()

    def fsync(fd: int) -> None:
        if threading.get_ident() == reactor_thread:
            on_reactor.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    factories = [lambda e, n=n: Quiet(e, f"service_quiet-{n}") for n in range(4)]
    engine = create_engine(tmp_path / "home", reactor=reactor, rest_port=0, ws_port=0, service_factories=factories)
    engine.startService()
    try:
        yield engine.ready
        assert on_reactor == []
        option = tmp_path / "home" / "config" / "services" / "quiet-3" / "option-4"
        assert option.read_text() == "4\n"
    finally:
        yield engine.stop()
