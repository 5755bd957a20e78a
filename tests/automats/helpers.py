"""Shared test helpers: load a generated machine from a file, and a recording subclass.

The recording subclass plays the hand-written class: each action appends its name to ``calls``,
each condition appends to ``asked`` and answers from ``answers`` (False when absent), and
``hooks[action]`` lets a test make an action raise or send more events.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.logger import Logger

from bitdust.automats.generator import flat_path, generate
from bitdust.automats.source import parse_source

SOURCES = Path(__file__).parent / "sources"

_counter = itertools.count()


def load_generated(source_path: Path, directory: Path) -> type:
    """Generate ``source_path`` into ``directory``, import it from there, return the machine class."""
    source = parse_source(source_path)
    path = flat_path(source, directory)
    path.write_text(generate(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"_generated_{source.name}_{next(_counter)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, source.generated_class)


def _action(name: str) -> Callable[..., None]:
    def action(self: Any, *args: Any, **kwargs: Any) -> None:
        self.calls.append(name)
        self.call_args.append((name, args, kwargs))
        hook = self.hooks.get(name)
        if hook is not None:
            hook(self, *args, **kwargs)

    action.__name__ = name
    return action


def _condition(name: str) -> Callable[..., bool]:
    def condition(self: Any, *args: Any, **kwargs: Any) -> bool:
        self.asked.append(name)
        answer = self.answers.get(name, False)
        if isinstance(answer, BaseException):
            raise answer
        return bool(answer)

    condition.__name__ = name
    return condition


def recording_class(machine_class: type) -> type:
    """A subclass of ``machine_class`` with recording actions and scripted conditions."""

    def __init__(self: Any, *, answers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.calls = []
        self.call_args = []
        self.asked = []
        self.answers = dict(answers or {})
        self.hooks = {}
        machine_class.__init__(self, **kwargs)

    namespace: dict[str, Any] = {"__init__": __init__}
    namespace.update({name: _action(name) for name in machine_class.ACTIONS})
    namespace.update({name: _condition(name) for name in machine_class.CONDITIONS})
    return type(f"Recording{machine_class.__name__}", (machine_class,), namespace)


class LogCapture:
    """A Logger whose events land in a list, to assert what the runtime logged and at which level."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.logger = Logger(namespace="test", observer=self.events.append)

    def levels(self) -> list[str]:
        return [event["log_level"].name for event in self.events]

    def formats(self, level: str | None = None) -> list[str]:
        return [e["log_format"] for e in self.events if level is None or e["log_level"].name == level]
