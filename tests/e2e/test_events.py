"""Long polling: ``event_send`` wakes a blocked ``event_listen``."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.e2e.helpers import api, ok, poll_until

pytestmark = pytest.mark.e2e


def _consumers(node) -> int:
    return ok(node, "GET", "process/info/v1")["event"]["consumers"]


def test_event_send_wakes_a_blocked_listen(node) -> None:
    consumer = f"e2e-{uuid.uuid4().hex[:12]}"
    event_id = f"e2e-event-{uuid.uuid4().hex[:8]}"
    answers: list[tuple[int, dict]] = []
    consumers_before = _consumers(node)

    def listen() -> None:
        answers.append(api(node, "GET", f"event/listen/{consumer}/v1", _timeout=120))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    # the consumer exists once its first listen call arrived; with nothing buffered, it is waiting
    poll_until(lambda: _consumers(node) > consumers_before, 10, what="the listen call to register")
    assert not answers, "event_listen answered before any event was sent"

    status, envelope = api(node, "POST", f"event/send/{event_id}/v1", data={"n": 1, "text": "hello"})
    assert status == 200 and envelope["status"] == "OK", envelope

    listener.join(timeout=15)
    assert not listener.is_alive(), "event_listen was not woken by event_send"
    status, envelope = answers[0]
    assert status == 200 and envelope["status"] == "OK", envelope
    events = envelope["result"]
    names = [e.get("event_id", e.get("id")) for e in events]
    assert event_id in names, events
    assert events[names.index(event_id)]["data"] == {"n": 1, "text": "hello"}


def test_events_sent_between_polls_are_kept_for_the_consumer(node) -> None:
    consumer = f"e2e-{uuid.uuid4().hex[:12]}"
    first = threading.Thread(target=api, args=(node, "GET", f"event/listen/{consumer}/v1"), kwargs={"_timeout": 120})
    before = _consumers(node)
    first.start()
    poll_until(lambda: _consumers(node) > before, 10, what="the listen call to register")
    ok(node, "POST", "event/send/e2e-wake/v1", data=0)
    first.join(timeout=15)
    assert not first.is_alive()

    ok(node, "POST", "event/send/e2e-kept-1/v1", data=1)
    ok(node, "POST", "event/send/e2e-kept-2/v1", data=2)
    events = ok(node, "GET", f"event/listen/{consumer}/v1")
    names = [e.get("event_id", e.get("id")) for e in events]
    assert [name for name in names if name.startswith("e2e-kept")] == ["e2e-kept-1", "e2e-kept-2"]
