"""Builders shared by the identity tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from bitdust.crypt.rsa_key import RsaKey
from bitdust.userid.identity import Identity

SERVER = "http://localhost:8084"


def make_identity(
    key: RsaKey,
    name: str = "alice",
    *,
    revision: int = 1,
    sources: list[str] | None = None,
    contacts: tuple[str, ...] = ("tcp://127.0.0.1:7771",),
    sign: bool = True,
) -> Identity:
    identity = Identity(
        sources=sources if sources is not None else [f"{SERVER}/{name}.xml"],
        contacts=contacts,
        public_key=key.public_openssh(),
        revision=revision,
        date="Jan 01, 2025",
        version="test",
    )
    return identity.signed(key) if sign else identity


class LogRecorder:
    """A Logger whose events land in a list."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.log = Logger(namespace="test", observer=self.events.append)

    def texts(self) -> list[str]:
        from twisted.logger import formatEvent

        return [formatEvent(event) for event in self.events]


class QueuedBlocking:
    """A ``run_blocking`` that holds each call until the test releases it (to interleave work)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[..., Any], tuple[Any, ...], defer.Deferred[Any]]] = []

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.calls.append((lambda: fn(*args, **kwargs), args, d))
        return d

    def run_next(self, index: int = 0) -> None:
        call, _args, d = self.calls.pop(index)
        try:
            result = call()
        except Exception as exc:  # delivered to the waiting Deferred, as a thread pool would
            d.errback(exc)
        else:
            d.callback(result)

    def run_all(self) -> None:
        while self.calls:
            self.run_next()
