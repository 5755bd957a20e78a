"""The engine's configuration: typed options, one small file per option under ``config/``.

One file per option (``config/logs/debug-level`` holds ``0``) is the layout the original BitDust
used and users know: an option can be read with ``cat`` and changed with an editor while the
engine is stopped. A bad file never stops the engine: it is logged and the default is used.
Changes made through :meth:`Config.set` are checked first and written atomically, so a wrong
value changes nothing, and watchers hear about real changes only.

Everything lives on the :class:`Config` instance (no module state), so many engines can run in
one process. :meth:`Config.set` writes synchronously (it either fully succeeds or raises before
anything changed); the API uses :meth:`Config.set_async`, which writes in a worker thread.

Registering an option never touches the disk on the calling thread: services register theirs on
the reactor thread, after :meth:`Config.load`. Their files are read (and the missing ones written
with the default) in one job of the injected ``run_blocking`` per :meth:`Config.registering`
block; :meth:`Config.settled` fires when that is done, and the service manager starts no service
before. A standalone config (tools, tests) runs that job inline.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.collaborators import RunBlocking
from bitdust.main.errors import InvalidInput, NotFound
from bitdust.main.settings.config_files import OptionFiles, ReadResult
from bitdust.main.settings.config_options import DEFAULT_OPTIONS, Option, check_key
from bitdust.main.settings.config_types import ConfigValueError
from bitdust.main.settings.config_watch import Watcher, WatchHandle

#: Event id the engine sends on the event bus for each change heard through ``add_listener``;
#: its data is :meth:`Config.change_data`.
CONFIG_CHANGED_EVENT = "config-changed"
_T = TypeVar("_T")


def run_inline(fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> defer.Deferred[_T]:
    """The ``run_blocking`` of a standalone :class:`Config`: run ``fn`` right here."""
    return defer.maybeDeferred(fn, *args, **kwargs)


def _show(value: Any) -> str:
    """A short, quoted rendering of a rejected value for an error message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _normalize(prefix: str) -> str:
    return prefix.strip("/")


class Config:
    """The options of one engine, their current values, their files and their watchers."""

    def __init__(
        self,
        folder: Path,
        options: Iterable[Option] = DEFAULT_OPTIONS,
        *,
        log: Logger | None = None,
        run_blocking: RunBlocking = run_inline,
    ) -> None:
        """``run_blocking`` reads and writes the files of options registered after :meth:`load`;
        the engine passes its worker-thread runner."""
        self.folder = Path(folder)
        self._log = log or Logger(namespace="bitdust.main.settings.config", source=self)
        self._run_blocking = run_blocking
        self._options: dict[str, Option] = {}
        self._values: dict[str, Any] = {}
        self._watchers: list[WatchHandle] = []
        self._loaded = False
        # Serializes the worker-thread jobs (set_async writes, registered options' files) so they
        # land in the order they were asked for; settled() waits behind them.
        self._write_lock = defer.DeferredLock()
        self._files = OptionFiles()
        # Options registered after load, waiting for one job that reads their files.
        self._unread: list[Option] = []
        self._batch_depth = 0
        # Keys whose file a worker thread is reading -> whether set() changed them meanwhile (then
        # the value read is older than the one set, and is dropped).
        self._reading: dict[str, bool] = {}
        for option in options:
            self.register(option)

    # -- options ------------------------------------------------------------------------------

    def register(self, option: Option) -> None:
        """Add an option at run time (services add ``services/<name>/enabled``).

        Registering the same definition again is a no-op, so a service can be re-created; a
        different definition under a taken key, or a key that is a folder of other options (or
        has an option as its folder), raises ``ValueError``: two owners of one file is a bug.
        After :meth:`load`, the new option holds its default until its file has been read (or
        written with the default) by ``run_blocking``, with the others of the same
        :meth:`registering` block; nothing here touches the disk.
        """
        key = option.key
        existing = self._options.get(key)
        if existing is not None:
            if existing != option:
                raise ValueError(f"option {key} is already registered with a different definition")
            return
        if self.is_folder(key):
            raise ValueError(f"option {key} would hide the folder of options {key}/")
        parts = key.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in self._options:
                raise ValueError(f"option {key} cannot live under option {parent}")
        self._options[key] = option
        self._values[key] = option.default
        if self._loaded:
            self._unread.append(option)
            if not self._batch_depth:
                self._read_registered()

    @contextlib.contextmanager
    def registering(self) -> Iterator[None]:
        """Read the files of every option registered inside in one blocking job, at the end (the
        engine registers all its services' options at once)."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if not self._batch_depth:
                self._read_registered()

    def settled(self) -> defer.Deferred[None]:
        """Fires once every file job asked for so far (registrations, ``set_async``) is done."""
        return self._write_lock.run(defer.succeed, None)

    def _read_registered(self) -> None:
        options, self._unread = self._unread, []
        if not options:
            return
        self._reading.update((option.key, False) for option in options)

        def apply(results: list[ReadResult]) -> None:
            for option, result in zip(options, results, strict=True):
                if not self._reading.pop(option.key, False):
                    self._apply(option, result)

        def failed(failure: Failure) -> None:
            # Not an OSError (those are in the results): a bug; the options keep their defaults.
            for option in options:
                self._reading.pop(option.key, None)
            self._log.failure("cannot read registered options", failure=failure)

        d = self._write_lock.run(self._run_blocking, self._read_files, options)
        d.addCallbacks(apply, failed)
        d.addErrback(lambda failure: self._log.failure("cannot apply registered options", failure=failure))

    def option(self, key: str) -> Option:
        """The definition of ``key``; ``NotFound`` for an unknown key."""
        option = self._options.get(_normalize(key))
        if option is None:
            raise NotFound(f"option {key} not found")
        return option

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _normalize(key) in self._options

    def path_of(self, key: str) -> Path:
        """The file that stores ``key``; keys are checked at registration, so it stays in the folder."""
        return self.folder.joinpath(*self.option(key).key.split("/"))

    # -- files --------------------------------------------------------------------------------

    def load(self) -> None:
        """Read every option's file; write the missing ones so users can see and edit them.

        An unreadable file or one with a value that does not fit the type is logged and the
        default is used. The first load notifies nobody (nothing was running on the old values);
        a later load (a reload) notifies watchers of the values that changed. Blocking: the engine
        calls it in its worker-thread startup step.
        """
        options = list(self._options.values())
        for option, result in zip(options, self._read_files(options), strict=True):
            self._apply(option, result)
        self._loaded = True

    def _read_files(self, options: list[Option]) -> list[ReadResult]:
        """Blocking, and touching no state but the files: read each option's file, creating a
        missing one with the default (users find the options that way)."""
        return [self._read_file(option) for option in options]

    def _read_file(self, option: Option) -> ReadResult:
        return self._files.read_or_create(self.path_of(option.key), option)

    def _apply(self, option: Option, result: ReadResult) -> None:
        """Store what :meth:`_read_file` found (reactor thread, or the caller of :meth:`load`)."""
        path = self.path_of(option.key)
        text, write_error = result
        if write_error is not None:
            # Writing a missing default only helps users find options; failing must not stop the engine.
            self._log.warn("cannot write option {key}: {error}", key=option.key, error=write_error)
        if text is None:
            self._store(option.key, option.default)
            return
        if isinstance(text, (OSError, UnicodeDecodeError)):
            self._log.warn(
                "cannot read option {key} from {path}: {error}; using the default {default}",
                key=option.key,
                path=str(path),
                error=str(text),
                default=option.type.serialize(option.default),
            )
            self._store(option.key, option.default)
            return
        try:
            value = option.type.parse(text.rstrip("\r\n"))
        except ConfigValueError as error:
            self._log.warn(
                "invalid value {text!r} for option {key} in {path}: {error}; using the default {default}",
                text=text,
                key=option.key,
                path=str(path),
                error=str(error),
                default=option.type.serialize(option.default),
            )
            value = option.default
        self._store(option.key, value)

    def _write(self, option: Option, value: Any) -> None:
        self._files.write(self.path_of(option.key), option, value)

    def _store(self, key: str, value: Any) -> None:
        old = self._values[key]
        self._values[key] = value
        if self._loaded and value != old:
            self._notify(key, value, old)

    # -- values -------------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The current Python value of ``key``; ``NotFound`` (404) for an unknown key."""
        return self._values[self.option(key).key]

    def set(self, key: str, value: Any) -> dict[str, Any]:
        """Parse, check and store a new value; return :meth:`info` plus ``old_value``.

        ``value`` may be the JSON value or its text form. A value of the wrong type or out of
        range raises ``InvalidInput`` naming the key and what was expected, and nothing changes:
        no file is written and no watcher is called. Setting the current value again succeeds
        (and rewrites the file) without notifying anyone.
        """
        option, new = self._prepare(key, value)
        self._write(option, new)
        return self._commit(option, new)

    def set_async(
        self, key: str, value: Any, run_blocking: Callable[..., defer.Deferred[Any]]
    ) -> defer.Deferred[dict[str, Any]]:
        """:meth:`set` with the file written by ``run_blocking(fn, *args)`` (a worker thread).

        The value is checked at once (an ``InvalidInput`` is raised before anything happens); the
        new value is stored and watchers are told only after the file is safely on disk. Writes
        are serialized, so two quick changes of one option land in the order they were asked.
        """
        option, new = self._prepare(key, value)

        def write() -> defer.Deferred[dict[str, Any]]:
            d = run_blocking(self._write, option, new)
            d.addCallback(lambda _: self._commit(option, new))
            return d

        return self._write_lock.run(write)

    def _prepare(self, key: str, value: Any) -> tuple[Option, Any]:
        if key not in self and self.is_folder(key):
            raise InvalidInput(f"{_normalize(key)} is a folder of options, not an option")
        option = self.option(key)
        if option.readonly:
            raise InvalidInput(f"option {option.key} is read-only")
        try:
            new = option.type.parse(value)
        except ConfigValueError as error:
            raise InvalidInput(f"wrong value for {option.key}: expected {error.expected}, got {_show(value)}") from None
        return option, new

    def _commit(self, option: Option, new: Any) -> dict[str, Any]:
        if option.key in self._reading:
            self._reading[option.key] = True
        old = self._values[option.key]
        self._values[option.key] = new
        if new != old:
            self._notify(option.key, new, old)
        result = self.info(option.key)
        result["old_value"] = option.type.to_json(old)
        return result

    # -- watchers -----------------------------------------------------------------------------

    def watch(self, prefix_or_key: str, callback: Watcher) -> WatchHandle:
        """Call ``callback(key, new_value, old_value)`` after each change of ``prefix_or_key`` or an
        option under it (``"logs"`` hears ``logs/debug-level``); ``""`` hears every option.

        The key need not exist yet, so a service can watch its options before registering them.
        """
        prefix = _normalize(prefix_or_key)
        if prefix:
            check_key(prefix)
        handle = WatchHandle(prefix, callback, self._watchers)
        self._watchers.append(handle)
        return handle

    def add_listener(self, callback: Watcher) -> WatchHandle:
        """Hear every change; the engine turns these into :data:`CONFIG_CHANGED_EVENT` events."""
        return self.watch("", callback)

    def _notify(self, key: str, new: Any, old: Any) -> None:
        # A broken watcher is someone else's bug: log it and let the change and the others proceed.
        for handle in list(self._watchers):
            if handle.matches(key) and handle in self._watchers:
                try:
                    handle.callback(key, new, old)
                except Exception:
                    self._log.failure("config watcher {callback!r} failed on {key}", callback=handle.callback, key=key)

    def change_data(self, key: str, new: Any, old: Any) -> dict[str, Any]:
        """The JSON payload of a ``config-changed`` event: ``{"key", "value", "old_value"}``."""
        option = self.option(key)
        return {"key": option.key, "value": option.type.to_json(new), "old_value": option.type.to_json(old)}

    # -- introspection ------------------------------------------------------------------------

    def info(self, key: str) -> dict[str, Any]:
        """``{"key", "value", "type", "default", "label", "readonly"}`` with JSON values, as the
        original's ``toJson`` had them (``label`` is the description)."""
        option = self.option(key)
        return {
            "key": option.key,
            "value": option.type.to_json(self._values[option.key]),
            "type": option.type.name,
            "default": option.type.to_json(option.default),
            "label": option.description,
            "readonly": option.readonly,
        }

    def json_value(self, key: str) -> Any:
        """The current value of ``key`` in its JSON form (``"10 MB"`` for a size)."""
        option = self.option(key)
        return option.type.to_json(self._values[option.key])

    def keys(self) -> list[str]:
        """All option keys in registration order."""
        return list(self._options)

    def is_folder(self, prefix: str) -> bool:
        """Whether options live under ``prefix`` (``"logs"``, ``"interface/api"``; ``""`` is the root)."""
        prefix = _normalize(prefix)
        if not prefix:
            return bool(self._options)
        return any(key.startswith(prefix + "/") for key in self._options)

    def children(self, prefix: str) -> list[str]:
        """Full keys of the options and folders directly under ``prefix``, sorted; ``[]`` if none."""
        prefix = _normalize(prefix)
        start = prefix + "/" if prefix else ""
        found = {start + key[len(start) :].split("/", 1)[0] for key in self._options if key.startswith(start)}
        return sorted(found)

    def list(self, sort: bool = False) -> list[dict[str, Any]]:
        """:meth:`info` of every option, in registration order or sorted by key."""
        keys = sorted(self._options) if sort else self.keys()
        return [self.info(key) for key in keys]

    def tree(self, include_info: bool = False) -> dict[str, Any]:
        """Options as nested dicts by key segment, sorted; leaves are JSON values or :meth:`info`."""
        root: dict[str, Any] = {}
        for key in sorted(self._options):
            *folders, leaf = key.split("/")
            node = root
            for folder in folders:
                node = node.setdefault(folder, {})
            node[leaf] = self.info(key) if include_info else self.json_value(key)
        return root
