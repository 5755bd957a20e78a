"""The engine's event bus: application events for services, WebSocket clients and long polls.

Events are what the original BitDust called ``events.send(event_id, data)``: a named fact
(``service-started``, ``config-changed``, ...) with a small JSON payload. Every event is
written one per line to ``logs/event.log`` (rotated like ``main.log``), handed to subscribers
(the WebSocket server pushes it to its clients) and queued for HTTP long-poll consumers
(``event_listen``).

Event data is checked to be strict JSON when the event is sent, and what is kept is the
checked copy: an event that could not be encoded would fail every answer it is queued in and
take the good events beside it down with it, so such an event is refused at its sender.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.logfile import LogFile

from bitdust.main import strict_json
from bitdust.main.errors import InvalidInput
from bitdust.main.logs import rotated_file

EVENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
CONSUMER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
MAX_EVENT_DATA = 64 * 1024
#: seconds a long-poll consumer may go without polling before it is dropped (the option's default)
DEFAULT_CONSUMER_IDLE = 600.0

Subscriber = Callable[[dict[str, Any]], None]


def check_event_id(event_id: str) -> None:
    if not isinstance(event_id, str) or not EVENT_ID_RE.match(event_id):
        raise InvalidInput(f"invalid event id {event_id!r}: 1 to 100 characters of letters, digits, '-', '_', '.', ':'")


@attrs.define
class _Consumer:
    """One long-poll consumer: a bounded buffer and at most one waiting request.

    ``idle_call`` is armed while no request waits: it drops the consumer when its client has
    not come back within ``idle_timeout`` seconds.
    """

    consumer_id: str
    created: float
    buffer: deque[dict[str, Any]] = attrs.field(factory=deque)
    waiter: defer.Deferred[list[dict[str, Any]]] | None = None
    timeout_call: IDelayedCall | None = None
    idle_call: IDelayedCall | None = None
    idle_timeout: float = DEFAULT_CONSUMER_IDLE
    delivered: int = 0


class EventBus:
    """Publishes events to subscribers, the event log and long-poll consumers.

    A consumer that stops collecting is dropped once ``consumer_limit`` events wait for it, or
    once it has not polled for its idle timeout, so an abandoned client cannot grow the engine's
    memory without bound. Events are written to the event log once :meth:`open_log` opened it.
    """

    def __init__(
        self,
        clock: IReactorTime,
        *,
        log: Logger | None = None,
        consumer_limit: int = 100,
        history_size: int = 200,
    ) -> None:
        self._clock = clock
        self._log = log or Logger()
        self._event_log_path: Path | None = None
        self._event_log_file: LogFile | None = None
        self._subscribers: list[Subscriber] = []
        self._consumers: dict[str, _Consumer] = {}
        self._consumer_limit = consumer_limit
        self._counts: dict[str, int] = {}
        self._recent: deque[dict[str, Any]] = deque(maxlen=history_size)
        self.dropped_consumers = 0

    def open_log(self, path: Path, *, rotate_bytes: int, max_files: int) -> None:
        """Blocking: write events to ``path`` from now on, rotated as ``main.log`` is."""
        self._close_log()
        self._event_log_file = rotated_file(path, rotate_bytes=rotate_bytes, max_files=max_files)
        self._event_log_path = path

    # -- publishing ---------------------------------------------------------------------------

    def send(self, event_id: str, data: Any = None) -> dict[str, Any]:
        """Publish an event now; returns the event as delivered (``{id, data, time}``)."""
        check_event_id(event_id)
        try:
            encoded = strict_json.dumps(data)
        except strict_json.NotStrictJson as exc:
            self._log.error(
                "event {event_id} refused: its data is not strict JSON ({reason})", event_id=event_id, reason=exc
            )
            raise InvalidInput(f"event data must be strict JSON: {exc}") from None
        if len(encoded) > MAX_EVENT_DATA:
            raise InvalidInput(f"event data too large: {len(encoded)} bytes, at most {MAX_EVENT_DATA}")
        # The checked copy travels, not the sender's object: changed later, it cannot break a queue.
        event = {"id": event_id, "data": strict_json.loads(encoded), "time": self._clock.seconds()}
        self._counts[event_id] = self._counts.get(event_id, 0) + 1
        self._recent.append(event)
        self._write_log(event_id, encoded, event["time"])
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                self._log.failure("event subscriber failed on {event_id}", event_id=event_id)
        for consumer in list(self._consumers.values()):
            self._deliver(consumer, event)
        return event

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def recent(self) -> list[dict[str, Any]]:
        return list(self._recent)

    # -- long polling -------------------------------------------------------------------------

    def listen(
        self, consumer_id: str, timeout: float, idle_timeout: float = DEFAULT_CONSUMER_IDLE
    ) -> defer.Deferred[list[dict[str, Any]]]:
        """Events waiting for ``consumer_id``, or the next ones, or ``[]`` after ``timeout``.

        A consumer is created on its first call and receives events sent from then on. Only
        one request per consumer waits at a time: a new one answers the previous with ``[]``.
        Once no request waits, the consumer is kept ``idle_timeout`` seconds for its next call.
        """
        if not isinstance(consumer_id, str) or not CONSUMER_ID_RE.match(consumer_id):
            raise InvalidInput(
                f"invalid consumer id {consumer_id!r}: 1 to 100 characters of letters, digits, '-', '_', '.', ':'"
            )
        consumer = self._consumers.get(consumer_id)
        if consumer is None:
            consumer = _Consumer(consumer_id=consumer_id, created=self._clock.seconds())
            self._consumers[consumer_id] = consumer
        consumer.idle_timeout = idle_timeout
        if consumer.waiter is not None:
            self._answer(consumer, [])
        self._stop_idle(consumer)
        if consumer.buffer:
            events = list(consumer.buffer)
            consumer.buffer.clear()
            consumer.delivered += len(events)
            self._start_idle(consumer)
            return defer.succeed(events)

        def cancelled(_: defer.Deferred[Any]) -> None:
            if consumer.waiter is waiter:
                self._clear_waiter(consumer)

        waiter: defer.Deferred[list[dict[str, Any]]] = defer.Deferred(cancelled)
        consumer.waiter = waiter
        consumer.timeout_call = self._clock.callLater(timeout, self._answer, consumer, [])
        return waiter

    def consumers(self) -> list[dict[str, Any]]:
        return [
            {
                "consumer_id": c.consumer_id,
                "created": c.created,
                "pending": len(c.buffer),
                "waiting": c.waiter is not None,
                "delivered": c.delivered,
            }
            for c in self._consumers.values()
        ]

    def close(self) -> None:
        """Answer every waiting long poll with ``[]`` and close the event log."""
        for consumer in list(self._consumers.values()):
            if consumer.waiter is not None:
                self._answer(consumer, [])
            self._stop_idle(consumer)
        self._consumers.clear()
        self._close_log()

    # -- internals ----------------------------------------------------------------------------

    def _deliver(self, consumer: _Consumer, event: dict[str, Any]) -> None:
        if consumer.waiter is not None:
            self._answer(consumer, [event])
            return
        consumer.buffer.append(event)
        if len(consumer.buffer) >= self._consumer_limit:
            self._drop(consumer, f"{len(consumer.buffer)} events left uncollected")

    def _drop(self, consumer: _Consumer, reason: str) -> None:
        self._log.info("event consumer {consumer} dropped: {reason}", consumer=consumer.consumer_id, reason=reason)
        self._stop_idle(consumer)
        if self._consumers.get(consumer.consumer_id) is consumer:
            del self._consumers[consumer.consumer_id]
            self.dropped_consumers += 1

    def _start_idle(self, consumer: _Consumer) -> None:
        self._stop_idle(consumer)
        consumer.idle_call = self._clock.callLater(
            consumer.idle_timeout, self._drop, consumer, f"no poll for {consumer.idle_timeout:g} seconds"
        )

    def _stop_idle(self, consumer: _Consumer) -> None:
        if consumer.idle_call is not None and consumer.idle_call.active():
            consumer.idle_call.cancel()
        consumer.idle_call = None

    def _clear_waiter(self, consumer: _Consumer) -> None:
        """The waiting request is gone (answered, timed out or cancelled): the idle clock runs."""
        if consumer.timeout_call is not None and consumer.timeout_call.active():
            consumer.timeout_call.cancel()
        consumer.timeout_call = None
        consumer.waiter = None
        if self._consumers.get(consumer.consumer_id) is consumer:
            self._start_idle(consumer)

    def _answer(self, consumer: _Consumer, events: list[dict[str, Any]]) -> None:
        waiter = consumer.waiter
        self._clear_waiter(consumer)
        if waiter is not None:
            consumer.delivered += len(events)
            waiter.callback(events)

    def _write_log(self, event_id: str, encoded: bytes, when: float) -> None:
        if self._event_log_file is None:
            return
        try:
            self._event_log_file.write(b"%.3f %s %s\n" % (when, event_id.encode("ascii"), encoded))
            self._event_log_file.flush()
        except OSError:
            self._log.failure("cannot write the event log {path}", path=str(self._event_log_path))

    def _close_log(self) -> None:
        if self._event_log_file is not None:
            self._event_log_file.close()
            self._event_log_file = None
