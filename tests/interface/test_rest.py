"""REST: raw HTTP bytes through a real twisted.web Site on an in-memory transport."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
import pytest_twisted
from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.protocol import ClientCreator, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.interface.rest import (
    DEFAULT_MAX_REQUEST_SIZE,
    ApiSite,
    make_rest_site,
    parse_body,
    read_limit,
    secret_matches,
)
from bitdust.interface.servers import ApiServers, PortUnavailable
from bitdust.main.errors import InvalidInput
from tests.interface import fake_api

OPENAPI = {"openapi": "3.0.3", "paths": {}}


@attrs.frozen
class Response:
    code: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def parse_responses(data: bytes) -> list[Response]:
    """Split raw bytes into responses, trusting Content-Length (as a keep-alive client must)."""
    responses = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        responses.append(Response(int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return responses


class Client:
    """One TCP connection to the site, fed raw bytes."""

    def __init__(self, site: ApiSite, address: Any = None) -> None:
        address = address or IPv4Address("TCP", "127.0.0.1", 40000)
        self.transport = StringTransport(peerAddress=address, hostAddress=IPv4Address("TCP", "127.0.0.1", 8180))
        self.protocol = site.buildProtocol(address)
        self.protocol.makeConnection(self.transport)

    def send(self, raw: bytes) -> list[Response]:
        self.protocol.dataReceived(raw)
        return self.received()

    def received(self) -> list[Response]:
        data = self.transport.value()
        self.transport.clear()
        return parse_responses(data)

    def request(
        self, verb: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response | None:
        lines = [f"{verb} {target} HTTP/1.1", "Host: 127.0.0.1:8180"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        answers = self.send(raw)
        assert len(answers) <= 1
        return answers[0] if answers else None

    def lose(self) -> None:
        self.protocol.connectionLost(Failure(ConnectionDone()))


@pytest.fixture
def engine() -> fake_api.FakeEngine:
    return fake_api.FakeEngine()


@pytest.fixture
def logged() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def secret() -> dict[str, str | None]:
    return {"value": None}


@pytest.fixture
def clock() -> MemoryReactorClock:
    return MemoryReactorClock()


@pytest.fixture
def site(
    engine: fake_api.FakeEngine, secret: dict[str, str | None], logged: list[dict[str, Any]], clock: MemoryReactorClock
) -> ApiSite:
    log = Logger(observer=logged.append)
    registry = fake_api.make_registry(engine, log=log)
    return make_rest_site(
        registry,
        lambda: secret["value"],
        max_request_size=1000,
        openapi=lambda: OPENAPI,
        log=log,
        reactor=clock,
    )


@pytest.fixture
def client(site: ApiSite) -> Client:
    return Client(site)


def test_get_200_envelope_and_headers(client: Client) -> None:
    answer = client.request("GET", "/fake/echo/v1?text=hi&times=2")
    assert answer.code == 200
    assert answer.json == {"status": "OK", "result": {"text": "hi", "times": 2}, "execution": "0.000107"}
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert int(answer.headers["content-length"]) == len(answer.body)


def test_post_json_body_and_query(client: Client) -> None:
    body = json.dumps({"items": ["a"], "options": {"x": 1}, "dry_run": True}).encode()
    answer = client.request("POST", "/fake/items/add/v1?limit=5", body, {"Content-Type": "application/json"})
    assert answer.code == 200
    result = answer.json["result"]
    assert (result["items"], result["options"], result["dry_run"], result["limit"]) == (["a"], {"x": 1}, True, 5)
    assert answer.json["message"] == "1 items added"


def test_curl_style_form_content_type_still_reads_json_body(client: Client) -> None:
    body = b'{"service_name_is_in_path": 1}'
    answer = client.request(
        "PUT", "/fake/service/svc/v1?enabled=true", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.code == 400
    assert answer.json["errors"][0].startswith("unknown parameter: service_name_is_in_path")
    answer = client.request("PUT", "/fake/service/svc%20x/v1", b'{"enabled": 1, "value": [1]}')
    assert answer.json["result"] == {"service_name": "svc x", "enabled": True, "value": [1]}


@pytest.mark.parametrize(
    ("verb", "target", "body", "error"),
    [
        ("POST", "/fake/items/add/v1", b"{not json", "request body is not valid JSON"),
        ("POST", "/fake/items/add/v1", b"[1, 2]", "request body must be a JSON object"),
        ("POST", "/fake/items/add/v1", b"[" * 450 + b"]" * 450, "request body must be a JSON object"),
        ("GET", "/fake/echo/v1?text=%ff", None, "parameter text: the query string value is not valid UTF-8"),
        ("GET", "/fake/echo/v1", None, "missing required parameter: text"),
        ("GET", "/fake/echo/v1?text=a&times=abc", None, "parameter times: expected integer, got 'abc'"),
        ("GET", "/fake/bad/v1", None, "that will never work"),
        ("POST", "/fake/items/add/v1?items=a", b'{"items": ["b"]}', "parameter items given more than once"),
    ],
)
def test_400(client: Client, verb: str, target: str, body: bytes | None, error: str) -> None:
    answer = client.request(verb, target, body)
    assert answer.code == 400
    assert answer.json["status"] == "ERROR"
    assert answer.json["errors"][0].startswith(error)


@pytest.mark.parametrize(
    ("verb", "target", "body", "error"),
    [
        # NaN, infinities and out-of-range numbers: not JSON, however deep
        ("POST", "/fake/items/add/v1", b'{"items": ["a"], "options": {"x": NaN}}', "parameter options: NaN is not"),
        ("POST", "/fake/items/add/v1", b'{"items": [Infinity]}', "parameter items: Infinity is not a JSON number"),
        ("POST", "/fake/items/add/v1", b'{"items": [[-Infinity]]}', "parameter items: -Infinity is not"),
        ("PUT", "/fake/service/s/v1", b'{"enabled": 1, "value": 1e400}', "parameter value: 1e400 is out of range"),
        ("POST", "/fake/items/add/v1?items=%5BNaN%5D", b"", "parameter items: NaN is not a JSON number (send"),
        # lone surrogates in values, keys and parameter names, from the body, the query string or the path
        ("POST", "/fake/items/add/v1", b'{"items": ["\\ud800"]}', "parameter items: not valid Unicode text"),
        ("POST", "/fake/items/add/v1", b'{"items": [], "options": {"k": {"\\udfff": 1}}}', "parameter options: the"),
        ("POST", "/fake/items/add/v1", b'{"\\ud800": 1}', 'parameter name "\\ud800" is not valid Unicode text'),
        ("POST", "/fake/items/add/v1?items=%5B%22%5Cud800%22%5D", b"", "parameter items: not valid Unicode text"),
        ("GET", "/fake/echo/v1?text=%ED%A0%80", None, "parameter text: the query string value is not valid UTF-8"),
        ("GET", "/fake/echo/v1?%ED%A0%80=1", None, "a parameter name in the query string is not valid UTF-8"),
        ("PUT", "/fake/service/%ED%A0%80/v1", b'{"enabled": 1}', "parameter service_name: the path segment is not"),
        # a key twice: a parameter, or a key inside one
        ("POST", "/fake/items/add/v1", b'{"items": ["a"], "items": ["b"]}', "parameter items given more than once"),
        ("POST", "/fake/items/add/v1", b'{"items": [], "options": {"x": 1, "x": 2}}', "parameter options: the key"),
    ],
)
def test_input_that_is_not_strict_json_or_text_is_a_400_before_the_method_runs(
    client: Client, engine: fake_api.FakeEngine, verb: str, target: str, body: bytes | None, error: str
) -> None:
    answer = client.request(verb, target, body)
    assert answer.code == 400, answer.json
    assert answer.json["status"] == "ERROR"
    assert answer.json["errors"][0].startswith(error), answer.json["errors"]
    assert answer.body.isascii()  # what the client sent is shown escaped
    assert engine.calls == []


def test_error_messages_say_where_inside_a_parameter(client: Client) -> None:
    body = b'{"items": [], "options": {"a": [1, {"b": "\\ud83d"}]}}'
    answer = client.request("POST", "/fake/items/add/v1", body)
    assert answer.json["errors"] == [
        "parameter options: not valid Unicode text (lone surrogate U+D83D) (at options.a[1].b)"
    ]


def test_valid_non_ascii_text_is_accepted(client: Client) -> None:
    body = json.dumps({"items": ["h\u00e9llo \U0001f600", "\ud83d\ude00"], "options": {"\u00e9": 1.5}}).encode()
    answer = client.request("POST", "/fake/items/add/v1", body)
    assert answer.code == 200
    assert answer.json["result"]["items"] == ["h\u00e9llo \U0001f600", "\U0001f600"]
    answer = client.request("GET", "/fake/echo/v1?text=%C3%A9+x")
    assert answer.json["result"]["text"] == "\u00e9 x"


def test_query_parameters_starting_with_an_underscore_are_ignored(client: Client) -> None:
    answer = client.request("GET", "/fake/echo/v1?text=hi&_=1712345&_cache=1&_=2")
    assert answer.code == 200
    assert answer.json["result"] == {"text": "hi", "times": 1}
    assert client.request("GET", "/fake/echo/v1?text=hi&cache=1").code == 400


def test_an_answer_strict_json_cannot_carry_is_a_logged_500(client: Client, logged: list[dict[str, Any]]) -> None:
    answer = client.request("GET", "/fake/nan/v1")
    assert answer.code == 500
    assert answer.json["errors"] == ["internal error: ValueError; see the engine log"]
    answer = client.request("GET", "/fake/refuse/badly/v1")
    assert answer.code == 500
    assert answer.json["errors"] == ["internal error: see the engine log"]
    assert len([e for e in logged if "log_failure" in e]) == 2
    assert client.request("GET", "/fake/health/v1").code == 200  # the connection still serves


def test_deeply_nested_body_is_a_400_not_a_crash() -> None:
    request = SimpleNamespace(content=io.BytesIO(b"[" * 100000 + b"]" * 100000))
    with pytest.raises(InvalidInput, match="not valid JSON"):
        parse_body(request)


def test_404_unknown_route_and_unknown_object(client: Client) -> None:
    answer = client.request("GET", "/foo/v1")
    assert (answer.code, answer.json["errors"]) == (404, ["unknown route: GET /foo/v1"])
    answer = client.request("GET", "/fake/missing/thing/v1")
    assert (answer.code, answer.json["errors"]) == (404, ["no such thing: thing"])


def test_405_with_allow_header(client: Client) -> None:
    answer = client.request("GET", "/fake/items/add/v1")
    assert answer.code == 405
    assert answer.headers["allow"] == "DELETE, POST"
    assert answer.json["errors"] == ["method not allowed: GET /fake/items/add/v1; allowed: DELETE, POST"]


def test_500_hides_the_exception(client: Client, logged: list[dict[str, Any]]) -> None:
    answer = client.request("GET", "/fake/crash/v1")
    assert answer.code == 500
    assert answer.json["errors"] == ["internal error: RuntimeError; see the engine log"]
    assert b"internal detail" not in answer.body
    assert any("log_failure" in e for e in logged)


def test_403_for_a_remote_client(site: ApiSite, engine: fake_api.FakeEngine) -> None:
    remote = Client(site, IPv4Address("TCP", "192.168.1.5", 40000))
    answer = remote.request("GET", "/fake/echo/v1?text=hi")
    assert answer.code == 403
    assert answer.json["status"] == "ERROR"
    assert engine.calls == []


def test_ipv6_loopback_is_local(site: ApiSite) -> None:
    local6 = Client(site, IPv6Address("TCP", "::1", 40000))
    assert local6.request("GET", "/fake/health/v1").code == 200


def test_401_when_the_secret_is_set(client: Client, secret: dict[str, str | None], engine: fake_api.FakeEngine) -> None:
    secret["value"] = "s3cret"
    assert client.request("GET", "/fake/echo/v1?text=a").code == 401
    assert client.request("GET", "/fake/echo/v1?text=a", headers={"api_secret": "wrong"}).code == 401
    assert client.request("GET", "/openapi.json").code == 401
    assert engine.calls == []
    answer = client.request("GET", "/fake/echo/v1?text=a", headers={"api_secret": "s3cret"})
    assert answer.code == 200
    secret["value"] = ""
    assert client.request("GET", "/fake/echo/v1?text=a").code == 200


def two_secret_headers(first: str, second: str) -> bytes:
    return (
        f"GET /fake/echo/v1?text=a HTTP/1.1\r\nHost: x\r\napi_secret: {first}\r\nApi_Secret: {second}\r\n\r\n".encode()
    )


def test_two_api_secret_headers_are_a_401_even_when_one_is_right(
    client: Client, secret: dict[str, str | None], engine: fake_api.FakeEngine
) -> None:
    secret["value"] = "s3cret"
    for pair in (("s3cret", "wrong"), ("wrong", "s3cret"), ("s3cret", "s3cret")):
        [answer] = client.send(two_secret_headers(*pair))
        assert answer.code == 401
        assert answer.json["errors"] == ["unauthorized: api_secret header given more than once"]
    assert engine.calls == []


def test_openapi_document(client: Client) -> None:
    answer = client.request("GET", "/openapi.json")
    assert (answer.code, answer.json) == (200, OPENAPI)
    assert client.request("POST", "/openapi.json", b"").code == 405


def test_keep_alive_two_requests_on_one_connection(client: Client) -> None:
    raw = (
        b"GET /fake/echo/v1?text=one HTTP/1.1\r\nHost: x\r\n\r\nGET /fake/echo/v1?text=two HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    answers = client.send(raw)
    assert [a.json["result"]["text"] for a in answers] == ["one", "two"]
    assert not client.transport.disconnecting
    assert client.request("GET", "/fake/health/v1").code == 200


def test_413_from_content_length_before_reading_the_body(client: Client, engine: fake_api.FakeEngine) -> None:
    head = b"POST /fake/items/add/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"
    answers = client.send(head)
    assert len(answers) == 1
    assert answers[0].code == 413
    assert answers[0].json["status"] == "ERROR"
    assert client.transport.disconnecting
    client.send(b"x" * 5000)
    assert engine.calls == []
    assert client.transport.value() == b""


def test_413_for_a_chunked_body_that_grows_too_large(client: Client, engine: fake_api.FakeEngine) -> None:
    head = b"POST /fake/items/add/v1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert client.send(head) == []
    chunk = b"%x\r\n%s\r\n" % (600, b" " * 600)
    assert client.send(chunk) == []
    answers = client.send(chunk)
    assert [a.code for a in answers] == [413]
    assert client.transport.disconnecting
    assert engine.calls == []


def test_a_body_under_the_limit_is_fine(client: Client) -> None:
    body = json.dumps({"items": ["x" * 900]}).encode()
    assert client.request("POST", "/fake/items/add/v1", body).code == 200


def test_async_answer_arrives_later(client: Client, engine: fake_api.FakeEngine) -> None:
    assert client.request("GET", "/fake/later/v1?value=1") is None
    engine.later[-1].callback(1)
    answers = client.received()
    assert [(a.code, a.json["result"]) for a in answers] == [(200, 2)]


def test_long_poll_is_cancelled_when_the_client_goes(client: Client, engine: fake_api.FakeEngine) -> None:
    assert client.request("GET", "/fake/listen/abc/v1") is None
    assert "abc" in engine.listeners
    client.lose()
    assert engine.cancelled == ["abc"]
    assert client.transport.value() == b""


def test_long_poll_answer(client: Client, engine: fake_api.FakeEngine) -> None:
    assert client.request("GET", "/fake/listen/abc/v1") is None
    engine.listeners["abc"].callback(["e1"])
    assert [a.json["result"] for a in client.received()] == [["e1"]]


class HalfClosingTransport(StringTransport):
    """A StringTransport that, like TCP, can shut down its write side and keep reading."""

    write_closed = False
    aborted = False

    def loseWriteConnection(self) -> None:  # noqa: N802 - Twisted's name
        self.write_closed = True

    def abortConnection(self) -> None:  # noqa: N802 - Twisted's name
        self.aborted = True
        super().abortConnection()


def refused(client: Client) -> Response:
    [answer] = parse_responses(client.transport.value())
    assert answer.headers["connection"] == "close"
    assert answer.json["status"] == "ERROR"
    return answer


def test_a_huge_url_is_answered_414(site: ApiSite, engine: fake_api.FakeEngine) -> None:
    client = Client(site)
    client.protocol.dataReceived(b"GET /fake/echo/v1?text=" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n")
    answer = refused(client)
    assert answer.code == 414
    assert answer.json["errors"] == ["request line too long: the limit is 16384 bytes"]
    assert client.transport.disconnecting
    # a request line over the limit that arrives whole is refused the same way
    client = Client(site)
    client.protocol.dataReceived(b"GET /fake/echo/v1?text=" + b"a" * 17_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert refused(client).code == 414
    assert engine.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"v" * 100_000 + b"\r\n",  # one header line over the line limit
        b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(400)),  # 40 KB of headers
        b"".join(b"X-H%d: v\r\n" % i for i in range(201)),  # too many header lines
    ],
    ids=["one-huge-header", "many-long-headers", "too-many-headers"],
)
def test_huge_headers_are_answered_431(site: ApiSite, engine: fake_api.FakeEngine, headers: bytes) -> None:
    client = Client(site)
    client.protocol.dataReceived(b"GET /fake/echo/v1?text=a HTTP/1.1\r\n" + headers + b"\r\n")
    answer = refused(client)
    assert answer.code == 431
    assert answer.json["errors"][0].startswith("request headers too large")
    assert client.transport.disconnecting
    assert engine.calls == []


def test_headers_under_the_limits_are_served(client: Client) -> None:
    headers = {f"X-H{i}": "v" * 100 for i in range(150)}
    answer = client.request("GET", "/fake/echo/v1?text=" + "a" * 16_000, headers=headers)
    assert answer.code == 200
    assert len(answer.json["result"]["text"]) == 16_000


def test_a_refused_connection_lingers_so_the_answer_is_not_reset(
    site: ApiSite, clock: MemoryReactorClock, engine: fake_api.FakeEngine
) -> None:
    """After the answer, the write side is shut and what the client still sends is read and dropped."""
    transport = HalfClosingTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
    channel = site.buildProtocol(transport.getPeer())
    channel.makeConnection(transport)
    channel.dataReceived(b"GET /fake/echo/v1?text=" + b"a" * 20_000)
    assert parse_responses(transport.value())[0].code == 414
    assert transport.write_closed and not transport.disconnecting
    transport.clear()
    channel.dataReceived(b"a" * 50_000 + b" HTTP/1.1\r\n\r\nGET /fake/echo/v1?text=b HTTP/1.1\r\n\r\n")
    assert transport.value() == b""
    assert engine.calls == []
    clock.advance(channel.linger_seconds)
    assert transport.aborted


def test_a_refused_connection_closed_by_the_client_stops_lingering(site: ApiSite, clock: MemoryReactorClock) -> None:
    transport = HalfClosingTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
    channel = site.buildProtocol(transport.getPeer())
    channel.makeConnection(transport)
    channel.dataReceived(b"POST /fake/items/add/v1 HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"x" * 100)
    assert parse_responses(transport.value())[0].code == 413
    channel.connectionLost(Failure(ConnectionDone()))
    assert clock.getDelayedCalls() == []
    assert not transport.aborted


def test_an_exception_in_the_resource_is_a_500_envelope(site: ApiSite, logged: list[dict[str, Any]]) -> None:
    def broken() -> str:
        raise OSError("secret file unreadable")

    site.resource._secret = broken
    answer = Client(site).request("GET", "/fake/health/v1")
    assert answer.code == 500
    assert answer.json == {"status": "ERROR", "errors": ["internal error: see the engine log"], "execution": "0.000000"}
    assert any("log_failure" in e for e in logged)


# -- both listeners on the real reactor: start, serve, refuse a busy port, stop everything ----


class _RawHttpClient(Protocol):
    """Collects raw bytes; ``lost`` fires when the server closes the connection."""

    def __init__(self) -> None:
        self.data = b""
        self.waiting: Deferred[bytes] | None = None
        self.lost: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:  # noqa: N802
        self.data += data
        if self.waiting is not None and parse_complete(self.data):
            waiting, self.waiting = self.waiting, None
            waiting.callback(self.data)

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802
        self.lost.callback(None)

    def get(self, target: str, secret: str) -> Deferred[bytes]:
        self.data = b""
        self.waiting = Deferred()
        self.transport.write(f"GET {target} HTTP/1.1\r\nHost: x\r\napi_secret: {secret}\r\n\r\n".encode())
        return self.waiting


def parse_complete(data: bytes) -> bool:
    try:
        return len(parse_responses(data)) == 1
    except (KeyError, ValueError, IndexError):
        return False


class _WsClient(WebSocketClientProtocol):
    def onOpen(self) -> None:  # noqa: N802
        self.factory.opened.callback(self)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        if not self.factory.closed.called:
            self.factory.closed.callback(code)


@pytest_twisted.inlineCallbacks
def test_servers_listen_on_loopback_and_stop_closes_everything() -> None:
    from twisted.internet import reactor

    engine = fake_api.FakeEngine()
    quiet = Logger(observer=lambda event: None)
    registry = fake_api.make_registry(engine, log=quiet)
    options = {"max_request_size": 10000, "openapi": lambda: OPENAPI, "log": quiet}
    servers = ApiServers(reactor, registry, lambda: "s3cret", rest_port=0, ws_port=0, **options)
    yield servers.start()
    try:
        assert servers.rest_port and servers.ws_port
        assert servers._rest_listener.getHost().host == "127.0.0.1"

        busy_rest = ApiServers(reactor, registry, lambda: None, rest_port=servers.rest_port, ws_port=0, **options)
        with pytest.raises(PortUnavailable) as caught:
            yield busy_rest.start()
        assert str(servers.rest_port) in caught.value.message
        assert "interface/api/rest-http-port" in caught.value.message
        busy_ws = ApiServers(reactor, registry, lambda: None, rest_port=0, ws_port=servers.ws_port, **options)
        with pytest.raises(PortUnavailable, match="interface/api/web-socket-port"):
            yield busy_ws.start()
        assert busy_ws._rest_listener is None  # the REST port it had opened was given back

        http = yield ClientCreator(reactor, _RawHttpClient).connectTCP("127.0.0.1", servers.rest_port)
        [answer] = parse_responses((yield http.get("/fake/health/v1", "s3cret")))
        assert answer.code == 200
        [answer] = parse_responses((yield http.get("/fake/health/v1", "wrong")))
        assert answer.code == 401
        listening: Deferred[str] = Deferred()
        engine.listen_started.append(listening)
        http.get("/fake/listen/poller/v1", "s3cret")
        assert (yield listening) == "poller"

        ws_factory = WebSocketClientFactory(f"ws://127.0.0.1:{servers.ws_port}/?api_secret=s3cret")
        ws_factory.protocol = _WsClient
        ws_factory.opened, ws_factory.closed = Deferred(), Deferred()
        reactor.connectTCP("127.0.0.1", servers.ws_port, ws_factory)
        yield ws_factory.opened
        assert len(servers.clients_info()) == 1
        servers.broadcast({"type": "event", "payload": {}})
    finally:
        yield servers.stop()
    yield http.lost
    assert engine.cancelled == ["poller"]
    assert (yield ws_factory.closed) == 1001
    assert servers.clients_info() == []
    with pytest.raises(ConnectionRefusedError):
        yield ClientCreator(reactor, _RawHttpClient).connectTCP("127.0.0.1", servers.rest_port)
    servers.broadcast({"type": "event", "payload": {}})  # after stop: harmless


def test_disabled_servers_do_nothing() -> None:
    registry = fake_api.make_registry()
    servers = ApiServers(
        MemoryReactorClock(), registry, lambda: None, rest_port=1, ws_port=2, rest_enabled=False, ws_enabled=False,
        max_request_size=10, openapi=dict,
    )  # fmt: skip
    assert servers.rest_port is None and servers.ws_port is None
    servers.broadcast({"type": "event"})
    assert servers.clients_info() == []


def test_servers_listen_on_loopback_only() -> None:
    reactor = MemoryReactorClock()
    servers = ApiServers(reactor, fake_api.make_registry(), lambda: None, rest_port=8180, ws_port=8280,
                         max_request_size=10, openapi=dict)  # fmt: skip
    servers.start()
    assert [(port, interface) for port, _factory, _backlog, interface in reactor.tcpServers] == [
        (8180, "127.0.0.1"),
        (8280, "127.0.0.1"),
    ]


def test_a_broken_size_setting_falls_back_to_the_default() -> None:
    assert read_limit(lambda: None) == DEFAULT_MAX_REQUEST_SIZE
    assert read_limit(0) == DEFAULT_MAX_REQUEST_SIZE
    assert read_limit(lambda: "2048") == 2048


class _SendAllThenRead(Protocol):
    """Sends a whole (over-long) request at once and keeps everything the server answers."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.data = b""
        self.lost: Deferred[None] = Deferred()

    def connectionMade(self) -> None:  # noqa: N802
        self.transport.write(self.raw)

    def dataReceived(self, data: bytes) -> None:  # noqa: N802
        self.data += data

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802
        self.lost.callback(None)


@pytest_twisted.inlineCallbacks
def test_over_long_requests_are_answered_over_a_real_socket() -> None:
    """On TCP the answer must arrive even though the client is still sending when it is refused."""
    from twisted.internet import reactor

    engine = fake_api.FakeEngine()
    quiet = Logger(observer=lambda event: None)
    registry = fake_api.make_registry(engine, log=quiet)
    servers = ApiServers(reactor, registry, lambda: None, rest_port=0, ws_port=0, max_request_size=10000,
                         openapi=lambda: OPENAPI, log=quiet)  # fmt: skip
    yield servers.start()
    requests = {
        414: b"GET /fake/echo/v1?text=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        431: b"GET /fake/echo/v1?text=a HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 100_000 + b"\r\n\r\n",
        413: b"POST /fake/items/add/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + b" " * 200_000,
    }
    try:
        for code, raw in requests.items():
            client = yield ClientCreator(reactor, _SendAllThenRead, raw).connectTCP("127.0.0.1", servers.rest_port)
            yield client.lost
            [answer] = parse_responses(client.data)
            assert answer.code == code
            assert answer.json["status"] == "ERROR"
        assert engine.calls == []
    finally:
        yield servers.stop()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([b"s3cret"], True),
        (("s3cret",), True),  # any sequence of values, not only a list
        ((b"s3cret", b"s3cret"), False),  # more than one never matches, even when both are right
        ((), False),
        (b"s3cret", True),
        ("s3cret", True),  # a single string is one value, not a sequence of characters
        ("s", False),
        (None, False),
    ],
)
def test_secret_matches_one_value_of_any_sequence(given: Any, expected: bool) -> None:
    assert secret_matches("s3cret", given) is expected
