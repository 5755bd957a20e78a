from __future__ import annotations

from typing import Any

import pytest
from treq.testing import StubTreq
from twisted.internet import task
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from bitdust.userid.errors import IdentityFetchError
from bitdust.userid.http_fetch import make_http_get

URL = "http://localhost:8084/alice.xml"


class Server(Resource):
    """One leaf that answers according to ``mode``; keeps open requests for later writes."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.mode = "ok"
        self.body = b"<identity/>"
        self.open: list[Any] = []
        self.seen: list[Any] = []

    def render_GET(self, request: Any) -> Any:  # noqa: N802 - Twisted hook
        self.seen.append(request)
        if self.mode == "ok":
            return self.body
        if self.mode == "missing":
            request.setResponseCode(404)
            return b"no"
        if self.mode == "redirect":
            request.setResponseCode(302)
            request.setHeader(b"location", b"http://elsewhere/alice.xml")
            return b""
        self.open.append(request)
        return NOT_DONE_YET


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


@pytest.fixture
def stub(server: Server) -> StubTreq:
    return StubTreq(server)


def _watch(d: Any) -> list[Any]:
    results: list[Any] = []
    d.addBoth(results.append)
    return results


def _result(d: Any) -> Any:
    results = d if isinstance(d, list) else _watch(d)
    assert results, "deferred has not fired"
    return results[0]


def _error(d: Any) -> IdentityFetchError:
    """The IdentityFetchError a Deferred (or a watched result list) failed with."""
    failure = _result(d)
    assert failure.check(IdentityFetchError), failure
    return failure.value


def test_success(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    http_get = make_http_get(clock, 1000, client=stub)
    assert _result(http_get(URL, 10)) == (200, b"<identity/>")
    assert server.seen[0].getHeader(b"user-agent") == b"BitDust identity fetch"
    assert not clock.getDelayedCalls()


def test_status_is_returned_not_judged(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    http_get = make_http_get(clock, 1000, client=stub)
    server.mode = "missing"
    assert _result(http_get(URL, 10)) == (404, b"no")
    server.mode = "redirect"
    assert _result(http_get(URL, 10))[0] == 302  # redirects are not followed


def test_exactly_the_limit_is_fine(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    server.body = b"x" * 100
    assert _result(make_http_get(clock, 100, client=stub)(URL, 10)) == (200, b"x" * 100)


def test_content_length_over_limit(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    server.body = b"x" * 101
    error = _error(make_http_get(clock, 100, client=stub)(URL, 10))
    assert error.reason == "too-large"
    assert error.url == URL


def test_streamed_body_over_limit(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    server.mode = "stream"
    d = _watch(make_http_get(clock, 100, client=stub)(URL, 10))
    request = server.open[0]
    request.write(b"x" * 60)
    stub.flush()
    assert not d
    request.write(b"x" * 60)
    stub.flush()
    assert _error(d).reason == "too-large"


def test_streamed_body_within_limit(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    server.mode = "stream"
    d = make_http_get(clock, 100, client=stub)(URL, 10)
    request = server.open[0]
    request.write(b"a" * 50)
    request.write(b"b" * 50)
    request.finish()
    stub.flush()
    assert _result(d) == (200, b"a" * 50 + b"b" * 50)


def test_timeout_before_headers(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    server.mode = "hang"
    d = _watch(make_http_get(clock, 100, client=stub)(URL, 5))
    clock.advance(4.9)
    assert not d
    clock.advance(0.2)
    error = _error(d)
    assert error.reason == "timeout"
    assert "5 seconds" in error.message


def test_timeout_while_reading_body(server: Server, stub: StubTreq, clock: task.Clock) -> None:
    server.mode = "stream"
    d = _watch(make_http_get(clock, 100, client=stub)(URL, 5))
    server.open[0].write(b"x" * 10)
    stub.flush()
    assert not d
    clock.advance(5)
    assert _error(d).reason == "timeout"


def test_network_errors_are_fetch_errors(clock: task.Clock) -> None:
    from twisted.internet import defer
    from twisted.internet.error import ConnectionRefusedError

    class Refusing:
        def get(self, url: str, **kwargs: Any) -> Any:
            return defer.fail(ConnectionRefusedError("nobody home"))

    error = _error(make_http_get(clock, 100, client=Refusing())(URL, 5))
    assert error.reason == "network"
    assert "nobody home" in error.message
