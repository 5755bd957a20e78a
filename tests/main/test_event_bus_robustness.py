"""The event bus keeps only strict JSON, rotates its log, and forgets consumers that went away."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet import task

from bitdust.interface.api import envelope
from bitdust.main.errors import InvalidInput
from bitdust.main.events import EventBus


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


# -- only strict JSON is queued -----------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), {"x": float("inf")}, [float("-inf")], {"s": "\ud800"}])
def test_an_event_that_is_not_strict_json_is_refused_and_loses_nothing(clock: task.Clock, bad: object) -> None:
    bus = EventBus(clock)
    seen: list = []
    bus.subscribe(seen.append)
    bus.listen("c1", timeout=1)
    clock.advance(1)
    bus.send("good-1", {"n": 1})
    with pytest.raises(InvalidInput, match="strict JSON"):
        bus.send("bad", bad)
    bus.send("good-2", {"n": 2})
    events = bus.listen("c1", timeout=60).result
    assert [e["id"] for e in events] == ["good-1", "good-2"]
    envelope.encode(events)  # what event_listen's answer goes through
    assert [e["id"] for e in seen] == ["good-1", "good-2"]
    assert "bad" not in bus.counts()


def test_the_queue_holds_a_checked_copy_not_the_senders_object(clock: task.Clock) -> None:
    bus = EventBus(clock)
    bus.listen("c1", timeout=1)
    clock.advance(1)
    data = {"n": 1, "items": [1]}
    bus.send("changing", data)
    data["n"] = float("nan")  # the sender changes its object after sending
    data["items"].append(float("inf"))
    events = bus.listen("c1", timeout=60).result
    assert events[0]["data"] == {"n": 1, "items": [1]}
    envelope.encode(events)


# -- the event log rotates like main.log ------------------------------------------------------


def test_the_event_log_rotates_at_max_size_and_keeps_max_files(clock: task.Clock, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "event.log"
    bus = EventBus(clock)
    bus.open_log(path, rotate_bytes=2048, max_files=2)
    for i in range(400):
        bus.send("tick", {"i": i, "pad": "x" * 40})
    bus.close()
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["event.log", "event.log.1", "event.log.2"]
    for item in path.parent.iterdir():
        assert item.stat().st_size <= 2048 + 100  # a file rotates before the write that passes the size
    assert path.read_text().splitlines()[-1].split(" ", 2)[2] == '{"i": 399, "pad": "' + "x" * 40 + '"}'


def test_main_log_and_event_log_share_one_rotation(tmp_path: Path) -> None:
    from bitdust.main.logs import EngineLog, rotated_file

    log = EngineLog()
    log.open_file(tmp_path, rotate_bytes=4096, max_files=3)
    main = log._file
    event = rotated_file(tmp_path / "event.log", rotate_bytes=4096, max_files=3)
    assert (type(main), main.rotateLength, main.maxRotatedFiles) == (type(event), 4096, 3)
    assert (event.rotateLength, event.maxRotatedFiles) == (4096, 3)
    log.close()
    event.close()


# -- idle consumers expire --------------------------------------------------------------------


def test_a_consumer_that_stops_polling_is_dropped_after_its_idle_time(clock: task.Clock) -> None:
    bus = EventBus(clock)
    d = bus.listen("gone", timeout=60, idle_timeout=600)
    clock.advance(60)
    assert d.result == []  # the poll timed out; the client never comes back
    clock.advance(599)
    assert [c["consumer_id"] for c in bus.consumers()] == ["gone"]
    clock.advance(1)
    assert bus.consumers() == [] and bus.dropped_consumers == 1
    assert clock.getDelayedCalls() == []
    bus.send("later")  # nothing is queued for it any more
    assert bus.consumers() == []


def test_a_consumer_that_keeps_polling_is_kept(clock: task.Clock) -> None:
    bus = EventBus(clock)
    for round_ in range(10):
        d = bus.listen("steady", timeout=60, idle_timeout=600)
        bus.send("tick", round_)
        assert [e["data"] for e in d.result] == [round_]
        clock.advance(599)  # comes back just before its idle time ends
    assert [c["delivered"] for c in bus.consumers()] == [10]
    assert bus.dropped_consumers == 0


def test_a_waiting_consumer_is_never_idle(clock: task.Clock) -> None:
    bus = EventBus(clock)
    d = bus.listen("patient", timeout=3600, idle_timeout=600)
    clock.advance(3599)
    assert not d.called and len(bus.consumers()) == 1
    clock.advance(1)
    assert d.result == []
    clock.advance(600)
    assert bus.consumers() == []


def test_a_cancelled_poll_starts_the_idle_clock(clock: task.Clock) -> None:
    from twisted.internet import defer

    bus = EventBus(clock)
    d = bus.listen("dropped-connection", timeout=60, idle_timeout=30)
    d.cancel()
    d.addErrback(lambda f: f.trap(defer.CancelledError))
    clock.advance(30)
    assert bus.consumers() == []


def test_events_left_uncollected_still_drop_a_consumer(clock: task.Clock) -> None:
    bus = EventBus(clock, consumer_limit=100)
    bus.listen("lazy", timeout=1, idle_timeout=600)
    clock.advance(1)
    for i in range(100):
        bus.send("tick", i)
    assert bus.consumers() == [] and bus.dropped_consumers == 1
    assert clock.getDelayedCalls() == []  # its idle timer went with it
