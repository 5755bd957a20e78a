"""A DHT layer that cannot be attached or detached is logged with its reason, not lost.

``sync_layers`` used to pass ``log.failure`` itself as the errback, which hands it the Failure as
the format and the message as the failure: the log held neither the message nor the traceback.
Typing the service's engine made mypy point at it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.service_framework.service import BitDustService
from bitdust.services.service_entangled_dht import EntangledDhtService


class FailingNode:
    """A DHT node whose layer 0 cannot be attached and whose layer 7 cannot be detached."""

    def attached_layers(self) -> list[int]:
        return [7]

    def attach_layer(self, layer: int) -> defer.Deferred[None]:
        return defer.fail(RuntimeError(f"no route to layer {layer}"))

    def detach_layer(self, layer: int) -> defer.Deferred[None]:
        return defer.fail(RuntimeError(f"layer {layer} is busy"))


class OneService:
    def __init__(self, service: BitDustService) -> None:
        self._service = service

    def names(self) -> list[str]:
        return [self._service.name]

    def is_on(self, name: str) -> bool:
        return False

    def get(self, name: str) -> BitDustService:
        return self._service


def test_failed_layer_changes_are_logged_with_the_message_and_the_failure() -> None:
    logged: list[dict[str, Any]] = []
    config = {"services/entangled-dht/attached-layers": ()}
    engine = SimpleNamespace(
        config=SimpleNamespace(get=config.get),
        log=Logger(observer=logged.append),
        events=SimpleNamespace(send=lambda event, data: None),
    )
    dht = EntangledDhtService(engine)  # type: ignore[arg-type]  # a fake with only what sync_layers reads
    engine.services = OneService(dht)
    dht.node = FailingNode()  # type: ignore[assignment]
    dht.sync_layers()
    failures = [(event["log_format"], event["layer"], event["log_failure"]) for event in logged]
    assert [(fmt, layer) for fmt, layer, _ in failures] == [
        ("DHT attach to layer {layer} failed", 0),
        ("DHT detach from layer {layer} failed", 7),
    ]
    assert all(isinstance(failure, Failure) for _, _, failure in failures)
    assert str(failures[0][2].value) == "no route to layer 0" and str(failures[1][2].value) == "layer 7 is busy"
