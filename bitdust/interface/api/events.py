"""API methods of the event bus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.interface.api.constraints import text
from bitdust.interface.api.spec import api_method

if TYPE_CHECKING:
    from bitdust.main.engine import Engine

# The names the event bus accepts (bitdust.main.events.EVENT_ID_RE / CONSUMER_ID_RE).
_NAME = text(
    max_length=100,
    pattern="[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}",
    explain="a name is 1 to 100 letters, digits, '-', '_', '.' or ':', starting with a letter or digit",
)


@api_method(
    "POST",
    "event/send/{event_id}/v1",
    params={"event_id": "name of the event, e.g. client-event-abc", "data": "any JSON value carried by the event"},
    constraints={"event_id": _NAME},
)
def event_send(engine: Engine, event_id: str, data: Any = None) -> dict[str, Any]:
    """Inject an event into the engine, as if a part of it had fired it (testing, development)."""
    return engine.events.send(event_id, data)


@api_method(
    "GET",
    "event/listen/{consumer_callback_id}/v1",
    params={"consumer_callback_id": "a name chosen by the client; its events are kept for it between calls"},
    constraints={"consumer_callback_id": _NAME},
    long_poll=True,
)
def event_listen(engine: Engine, consumer_callback_id: str) -> defer.Deferred[list[dict[str, Any]]]:
    """Wait for the engine's events (long polling).

    Returns the events fired since the consumer's previous call at once, or blocks until the
    next one or until `interface/api/long-poll-timeout` seconds pass (then an empty list).
    A consumer that leaves 100 events uncollected, or does not call again within
    `interface/api/consumer-idle-seconds`, is dropped (a later call starts it afresh).
    """
    timeout = engine.config.get("interface/api/long-poll-timeout")
    idle = engine.config.get("interface/api/consumer-idle-seconds")
    return engine.events.listen(consumer_callback_id, timeout, idle_timeout=idle)
