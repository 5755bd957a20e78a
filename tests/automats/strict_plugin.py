"""A pytest plugin: a test fails when one of its machines met an unexpected event.

In strict mode (the whole suite: tests/conftest.py sets it) an unexpected event raises
:class:`~bitdust.automats.errors.UnexpectedEventError` where it is sent. Sent from a Deferred's
callback, that error can end in an errback that only logs it, and the test would pass. This plugin
sees every unexpected event through the runtime's hook and fails the test that caused it, naming
machine, state and event. A test about unexpected events themselves says so with
``@pytest.mark.unexpected_events``.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from bitdust.automats import runtime
from bitdust.automats.runtime import Automat

MARKER = "unexpected_events"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: the test sends machines unexpected events on purpose")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    met: list[str] = []

    def observer(automat: Automat, event: str) -> None:
        met.append(f"{automat.id}: {event!r} in state {automat.state}")

    runtime.add_unexpected_observer(observer)
    try:
        outcome = yield
    finally:
        runtime.remove_unexpected_observer(observer)
    if met and outcome.excinfo is None and item.get_closest_marker(MARKER) is None:
        pytest.fail(
            "unexpected machine events (add them to the source's 'ignore:' if they are fine):\n" + "\n".join(met)
        )
