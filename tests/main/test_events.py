from __future__ import annotations

import json

import pytest
from twisted.internet import defer, task

from bitdust.main.errors import InvalidInput
from bitdust.main.events import EventBus


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


def test_send_reaches_subscribers_and_log(clock: task.Clock, tmp_path) -> None:
    bus = EventBus(clock)
    bus.open_log(tmp_path / "logs" / "event.log", rotate_bytes=1024 * 1024, max_files=2)
    seen = []
    bus.subscribe(seen.append)
    clock.advance(5)
    event = bus.send("client-event-abc", {"some_key": "some_value"})
    assert event == {"id": "client-event-abc", "data": {"some_key": "some_value"}, "time": 5}
    assert seen == [event]
    bus.close()
    line = (tmp_path / "logs" / "event.log").read_text().strip()
    assert line.split(" ", 2)[1] == "client-event-abc"
    assert json.loads(line.split(" ", 2)[2]) == {"some_key": "some_value"}
    assert bus.counts() == {"client-event-abc": 1}


@pytest.mark.parametrize("bad", ["", "has space", "x" * 101, "-leading", 12, None])
def test_bad_event_ids_are_refused(clock: task.Clock, bad) -> None:
    bus = EventBus(clock)
    with pytest.raises(InvalidInput):
        bus.send(bad)
    assert bus.counts() == {}


def test_event_data_must_be_json_and_small(clock: task.Clock) -> None:
    bus = EventBus(clock)
    with pytest.raises(InvalidInput, match="JSON"):
        bus.send("x", {"a": object()})
    with pytest.raises(InvalidInput, match="too large"):
        bus.send("x", "a" * 70000)


def test_failing_subscriber_does_not_break_others(clock: task.Clock) -> None:
    bus = EventBus(clock)
    seen = []

    def broken(event):
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(seen.append)
    bus.send("ok")
    assert len(seen) == 1


def test_listen_blocks_until_an_event(clock: task.Clock) -> None:
    bus = EventBus(clock)
    d = bus.listen("c1", timeout=60)
    assert not d.called
    bus.send("hello", 1)
    assert d.called
    assert [e["id"] for e in d.result] == ["hello"]


def test_listen_times_out_with_empty_list(clock: task.Clock) -> None:
    bus = EventBus(clock)
    d = bus.listen("c1", timeout=60)
    clock.advance(59)
    assert not d.called
    clock.advance(1)
    assert d.result == []


def test_events_between_polls_are_buffered_in_order(clock: task.Clock) -> None:
    bus = EventBus(clock)
    bus.listen("c1", timeout=1)
    clock.advance(1)
    bus.send("a")
    bus.send("b")
    d = bus.listen("c1", timeout=60)
    assert [e["id"] for e in d.result] == ["a", "b"]
    assert bus.consumers()[0]["pending"] == 0


def test_consumer_only_sees_events_after_it_exists(clock: task.Clock) -> None:
    bus = EventBus(clock)
    bus.send("before")
    d = bus.listen("late", timeout=10)
    assert not d.called


def test_abandoned_consumer_is_dropped_after_100_items(clock: task.Clock) -> None:
    bus = EventBus(clock, consumer_limit=100)
    bus.listen("lazy", timeout=1)
    clock.advance(1)
    for i in range(99):
        bus.send("tick", i)
    assert bus.consumers()[0]["pending"] == 99
    bus.send("tick", 99)
    assert bus.consumers() == []
    assert bus.dropped_consumers == 1
    for i in range(1000):
        bus.send("tick", i)
    assert bus.consumers() == []


def test_cancelled_listen_leaves_no_waiter(clock: task.Clock) -> None:
    bus = EventBus(clock)
    d = bus.listen("c1", timeout=60)
    d.cancel()
    d.addErrback(lambda f: f.trap(defer.CancelledError))
    assert bus.consumers()[0]["waiting"] is False
    # the poll's timeout is gone; only the idle expiry of the consumer is left
    assert [call.getTime() for call in clock.getDelayedCalls()] == [600]
    bus.send("later")
    assert bus.consumers()[0]["pending"] == 1


def test_second_listen_answers_the_first_with_nothing(clock: task.Clock) -> None:
    bus = EventBus(clock)
    first = bus.listen("c1", timeout=60)
    second = bus.listen("c1", timeout=60)
    assert first.result == []
    bus.send("x")
    assert [e["id"] for e in second.result] == ["x"]


def test_bad_consumer_id(clock: task.Clock) -> None:
    with pytest.raises(InvalidInput):
        EventBus(clock).listen("bad id", timeout=1)


def test_close_answers_waiting_polls(clock: task.Clock) -> None:
    bus = EventBus(clock)
    d = bus.listen("c1", timeout=60)
    bus.close()
    assert d.result == []
    assert clock.getDelayedCalls() == []
