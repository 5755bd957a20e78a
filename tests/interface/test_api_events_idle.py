"""event_listen drops a consumer after interface/api/consumer-idle-seconds without a poll."""

from __future__ import annotations

import types

from twisted.internet import task

from bitdust.interface.api import events
from bitdust.main.events import EventBus
from bitdust.main.settings.config_options import DEFAULT_OPTIONS


def test_the_idle_option_exists_with_its_default() -> None:
    option = {o.key: o for o in DEFAULT_OPTIONS}["interface/api/consumer-idle-seconds"]
    assert option.default == 600


def test_event_listen_uses_the_idle_option() -> None:
    clock = task.Clock()
    config = {"interface/api/long-poll-timeout": 60, "interface/api/consumer-idle-seconds": 100}
    engine = types.SimpleNamespace(events=EventBus(clock), config=types.SimpleNamespace(get=config.__getitem__))
    d = events.event_listen(engine, consumer_callback_id="client-1")
    clock.advance(60)
    assert d.result == []
    clock.advance(99)
    assert len(engine.events.consumers()) == 1
    clock.advance(1)
    assert engine.events.consumers() == []
