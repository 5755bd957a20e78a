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
    _BadInput,
    make_rest_site,
    parse_body,
    read_limit,
)
from bitdust.interface.servers import ApiServers, PortUnavailable
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
def site(engine: fake_api.FakeEngine, secret: dict[str, str | None], logged: list[dict[str, Any]]) -> ApiSite:
    log = Logger(observer=logged.append)
    registry = fake_api.make_registry(engine, log=log)
    return make_rest_site(
        registry,
        lambda: secret["value"],
        max_request_size=1000,
        openapi=lambda: OPENAPI,
        log=log,
        reactor=MemoryReactorClock(),
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
        ("GET", "/fake/echo/v1?text=%ff", None, "query string is not valid UTF-8"),
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


def test_deeply_nested_body_is_a_400_not_a_crash() -> None:
    request = SimpleNamespace(content=io.BytesIO(b"[" * 100000 + b"]" * 100000))
    with pytest.raises(_BadInput, match="not valid JSON"):
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


def test_huge_url_or_headers_close_the_connection(site: ApiSite, engine: fake_api.FakeEngine) -> None:
    client = Client(site)
    client.protocol.dataReceived(b"GET /fake/echo/v1?text=" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")
    assert client.transport.disconnecting
    client = Client(site)
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(400))
    client.protocol.dataReceived(b"GET /fake/echo/v1?text=a HTTP/1.1\r\n" + headers + b"\r\n")
    assert client.transport.value().startswith(b"HTTP/1.1 400")
    assert client.transport.disconnecting
    assert engine.calls == []


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
