"""``log_failure``: the errback that logs a failure with its message and traceback."""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger, formatEvent

from bitdust.main.logs import log_failure


def test_errback_logs_the_message_and_the_failure_and_ends_the_chain() -> None:
    events: list[dict] = []
    log = Logger(observer=events.append)
    d = defer.fail(ValueError("boom"))
    d.addErrback(log_failure(log, "step {name} failed", name="seven"))
    results: list = []
    d.addBoth(results.append)
    assert results == [None]
    [event] = events
    assert formatEvent(event) == "step seven failed"
    assert event["log_failure"].check(ValueError)
