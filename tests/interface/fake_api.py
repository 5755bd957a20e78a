"""A fake API module for the interface tests: one method per behaviour the machinery must handle."""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet import defer

from bitdust.interface.api.registry import ApiRegistry
from bitdust.interface.api.spec import ApiResult, MethodSpec, api_method, specs_of
from bitdust.main.errors import InvalidInput, NotFound


class FakeEngine:
    """Records calls; long polls and async calls wait on Deferreds the test fires or inspects."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.listeners: dict[str, defer.Deferred[Any]] = {}
        self.cancelled: list[str] = []
        self.later: list[defer.Deferred[Any]] = []
        self.listen_started: list[defer.Deferred[str]] = []


@api_method("GET", "fake/echo/v1", params={"text": "what to echo", "times": "how many times"})
def fake_echo(engine: FakeEngine, text: str, times: int = 1, loud: bool = False) -> dict[str, Any]:
    """Echo a text back.

    Synchronous; the simplest method there is.
    """
    engine.calls.append(("fake_echo", {"text": text, "times": times, "loud": loud}))
    said = text.upper() if loud else text
    return {"text": said, "times": times}


@api_method("GET", "fake/health/v1")
def fake_health(engine: FakeEngine) -> None:
    """Answer with nothing at all."""
    return None


@api_method("GET", "fake/later/v1")
def fake_later(engine: FakeEngine, value: int = 1) -> defer.Deferred[int]:
    """Answer later: the test fires ``engine.later[-1]``."""
    d: defer.Deferred[int] = defer.Deferred()
    engine.later.append(d)
    return d.addCallback(lambda result: result + value)


@api_method("GET", "fake/listen/{consumer_id}/v1", long_poll=True, params={"consumer_id": "who listens"})
def fake_listen(engine: FakeEngine, consumer_id: str) -> defer.Deferred[list[Any]]:
    """Wait until the test fires ``engine.listeners[consumer_id]`` (long polling)."""

    def cancelled(_d: defer.Deferred[list[Any]]) -> None:
        engine.cancelled.append(consumer_id)

    d: defer.Deferred[list[Any]] = defer.Deferred(cancelled)
    engine.listeners[consumer_id] = d
    started, engine.listen_started = engine.listen_started, []
    for waiter in started:
        waiter.callback(consumer_id)
    return d


@api_method(
    "POST",
    "fake/items/add/v1",
    params={"items": "what to add", "tags": "labels", "options": "extra settings"},
    aliases={"items": ("entries",)},
)
def fake_items_add(
    engine: FakeEngine,
    items: list,
    tags: list = ["default"],  # noqa: B006 - the registry copies mutable defaults on purpose
    options: dict | None = None,
    dry_run: bool = False,
    limit: int = 10,
    ratio: float = 0.5,
) -> ApiResult:
    """Add items; answers with a message line."""
    tags.append("seen")  # a shared default would grow call after call
    engine.calls.append(("fake_items_add", {"items": items, "tags": tags, "options": options}))
    result = {"items": items, "tags": tags, "options": options, "dry_run": dry_run, "limit": limit, "ratio": ratio}
    return ApiResult(result, f"{len(items)} items added")


@api_method("DELETE", "fake/items/add/v1")
def fake_items_clear(engine: FakeEngine, everything: bool = False) -> dict[str, bool]:
    """Same path as fake_items_add with another verb."""
    return {"everything": everything}


@api_method("PUT", "fake/service/{service_name}/v1", params={"service_name": "which service"})
def fake_service_set(engine: FakeEngine, service_name: str, enabled: bool, value: Any = None) -> dict[str, Any]:
    """Path parameter plus body parameters."""
    return {"service_name": service_name, "enabled": enabled, "value": value}


@api_method("GET", "fake/bad/v1")
def fake_bad(engine: FakeEngine) -> None:
    """Always refuses its input."""
    raise InvalidInput("that will never work")


@api_method("GET", "fake/missing/{name}/v1")
def fake_missing(engine: FakeEngine, name: str) -> None:
    """Never finds anything."""
    raise NotFound(f"no such thing: {name}")


@api_method("GET", "fake/crash/v1")
def fake_crash(engine: FakeEngine) -> None:
    """A bug: an exception no one expected."""
    raise RuntimeError("internal detail that must not reach the client")


@api_method("GET", "fake/unjsonable/v1")
def fake_unjsonable(engine: FakeEngine) -> object:
    """Returns something JSON cannot carry."""
    return object()


@api_method("GET", "fake/nan/v1")
def fake_nan(engine: FakeEngine) -> dict[str, float]:
    """A bug: a result strict JSON cannot carry (NaN)."""
    return {"ratio": float("nan")}


@api_method("GET", "fake/refuse/badly/v1")
def fake_refuse_badly(engine: FakeEngine) -> None:
    """A bug: refuses with a message that is not Unicode text (as if it echoed raw input)."""
    raise InvalidInput("refused: \ud800")


@api_method("GET", "fake/any/v1", aliases={"value": ("v",)})
def fake_any(engine: FakeEngine, value: Any = None, key_id: str | None = None) -> dict[str, Any]:
    """Any JSON value, and a nullable string."""
    return {"value": value, "key_id": key_id}


def specs() -> list[MethodSpec]:
    return specs_of(sys.modules[__name__])


def make_registry(engine: FakeEngine | None = None, **kwargs: Any) -> ApiRegistry:
    """A registry of this module's methods; a synchronous call's ``execution`` reads 0.000107."""
    kwargs.setdefault("timer", _StepTimer())
    return ApiRegistry(engine if engine is not None else FakeEngine(), specs(), **kwargs)


class _StepTimer:
    """Each reading is 0.000107 s after the previous one, so every envelope says 0.000107."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.000107
        return self.now
