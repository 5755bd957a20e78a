from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_twisted
from treq.testing import StubTreq
from twisted.internet import defer, task
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.test.requesthelper import DummyChannel

from bitdust.crypt.rsa_key import RsaKey
from bitdust.userid.http_fetch import make_http_get
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.identity_server import IdentityStore, make_identity_server_site
from tests.userid.helpers import LogRecorder, QueuedBlocking, make_identity

HOST, PORT = "localhost", 8084
ALICE_URL = "http://localhost:8084/alice.xml"


def inline(fn: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args, **kwargs)


@attrs.define
class Response:
    code: int
    headers: dict[bytes, bytes]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Call:
    """One HTTP/1.1 exchange with a Site over a StringTransport."""

    def __init__(self, site: Any, raw: bytes, address: str = "127.0.0.1") -> None:
        self.head_only = raw.startswith(b"HEAD ")
        peer = IPv4Address("TCP", address, 40000)
        self.transport = StringTransport(peerAddress=peer)
        self.channel = site.buildProtocol(peer)
        self.channel.makeConnection(self.transport)
        self.channel.dataReceived(raw)

    def response(self) -> Response | None:
        data = self.transport.value()
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            return None
        lines = head.split(b"\r\n")
        code = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if self.head_only else int(headers.get(b"content-length", b"0"))
        if len(rest) < length:
            return None
        return Response(code, headers, rest[:length])

    def result(self) -> Response:
        response = self.response()
        assert response is not None, f"no complete response yet: {self.transport.value()!r}"
        return response


def request(
    site: Any,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    address: str = "127.0.0.1",
) -> Call:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost:8084"]
    all_headers = {"Content-Length": str(len(body))} if body or method == "POST" else {}
    all_headers.update(headers or {})
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return Call(site, ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body, address)


def post(site: Any, identity: Identity | bytes | str, path: str = "/alice.xml", address: str = "127.0.0.1") -> Call:
    body = identity.to_xml().encode() if isinstance(identity, Identity) else identity
    return request(site, "POST", path, body if isinstance(body, bytes) else body.encode(), address=address)


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


@pytest.fixture
def rec() -> LogRecorder:
    return LogRecorder()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "identityserver"


@pytest.fixture
def store(folder: Path, rec: LogRecorder) -> IdentityStore:
    return IdentityStore(folder, log=rec.log)


def _site(store: IdentityStore, clock: task.Clock, rec: LogRecorder, run_blocking: Any = inline, **kw: Any) -> Any:
    options = {"host": HOST, "port": PORT, **kw}
    return make_identity_server_site(store, run_blocking=run_blocking, log=rec.log, reactor=clock, **options)


@pytest.fixture
def site(store: IdentityStore, clock: task.Clock, rec: LogRecorder) -> Any:
    return _site(store, clock, rec)


# -- GET ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/alice.xml",
        "/alice",
        "/AB.xml",
        "/ab.xml",
        "/a/alice.xml",
        "/../alice.xml",
        "/%2e%2e/alice.xml",
        "/alice.xml/",
        "//alice.xml",
        "/alice.xml.bak",
    ],
)
def test_get_unknown_or_bad_path_is_404(site: Any, path: str) -> None:
    response = request(site, "GET", path).result()
    assert response.code == 404
    assert response.json()["status"] == "ERROR"


def test_register_then_get(site: Any, store: IdentityStore, folder: Path, key_a: RsaKey) -> None:
    alice = make_identity(key_a, revision=1)
    response = post(site, alice).result()
    assert response.code == 200
    assert response.json() == {"status": "OK", "result": {"idurl": ALICE_URL, "revision": 1}}
    got = request(site, "GET", "/alice.xml").result()
    assert got.code == 200
    assert got.headers[b"content-type"] == b"text/xml; charset=utf-8"
    assert Identity.from_xml(got.body) == alice
    assert (folder / "alice.xml").read_bytes() == got.body
    head = request(site, "HEAD", "/alice.xml").result()
    assert head.code == 200
    assert request(site, "GET", "/alice.xml?cachebust=1").result().code == 200


def test_repost_is_idempotent_and_higher_revision_updates(site: Any, key_a: RsaKey) -> None:
    alice = make_identity(key_a, revision=1)
    assert post(site, alice).result().code == 200
    assert post(site, alice).result().code == 200
    assert post(site, alice.with_changes().signed(key_a)).result().code == 200  # same content, new signature
    newer = make_identity(key_a, revision=2, contacts=("tcp://10.0.0.1:7771",))
    assert post(site, newer).result().json()["result"]["revision"] == 2
    assert Identity.from_xml(request(site, "GET", "/alice.xml").result().body) == newer


def test_lower_or_equal_revision_is_409(site: Any, key_a: RsaKey) -> None:
    assert post(site, make_identity(key_a, revision=5)).result().code == 200
    lower = post(site, make_identity(key_a, revision=4)).result()
    assert lower.code == 409
    assert "not higher than the stored revision 5" in lower.json()["errors"][0]
    equal = post(site, make_identity(key_a, revision=5, contacts=("tcp://1.1.1.1:1",))).result()
    assert equal.code == 409


def test_other_key_for_taken_name_is_409(site: Any, key_a: RsaKey, key_b: RsaKey) -> None:
    alice = make_identity(key_a, revision=1)
    assert post(site, alice).result().code == 200
    response = post(site, make_identity(key_b, revision=100)).result()
    assert response.code == 409
    assert "held by another public key" in response.json()["errors"][0]
    assert Identity.from_xml(request(site, "GET", "/alice.xml").result().body) == alice


def test_tampered_copy_is_refused_and_good_one_still_served(site: Any, key_a: RsaKey) -> None:
    alice = make_identity(key_a, revision=1)
    assert post(site, alice).result().code == 200
    tampered = make_identity(key_a, revision=2).to_xml().replace("<revision>2<", "<revision>3<")
    response = post(site, tampered).result()
    assert response.code == 400
    assert response.json() == {
        "status": "ERROR",
        "errors": ["identity signature does not match its content and public key"],
    }
    assert Identity.from_xml(request(site, "GET", "/alice.xml").result().body) == alice


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "malformed"),
        (b"<identity>", "malformed"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]><identity/>", "DTD"),
        (b"<identity><nick>x</nick></identity>", "unknown element"),
    ],
)
def test_malformed_is_400(site: Any, body: bytes, reason: str) -> None:
    response = post(site, body).result()
    assert response.code == 400
    assert reason in response.json()["errors"][0]


def test_unsigned_is_400(site: Any, key_a: RsaKey) -> None:
    response = post(site, make_identity(key_a, sign=False)).result()
    assert response.code == 400
    assert response.json()["errors"] == ["identity is not signed"]


def test_name_must_match_path(site: Any, key_a: RsaKey) -> None:
    response = post(site, make_identity(key_a), path="/bob.xml").result()
    assert response.code == 400
    assert "posted to /bob.xml" in response.json()["errors"][0]
    assert post(site, make_identity(key_a), path="/../alice.xml").result().code == 404


def test_sources_must_point_here(site: Any, key_a: RsaKey) -> None:
    elsewhere = make_identity(key_a, sources=["http://other.net/alice.xml", "http://localhost:9999/alice.xml"])
    response = post(site, elsewhere).result()
    assert response.code == 400
    assert "none of the document's sources is http://localhost:8084/alice.xml" in response.json()["errors"][0]
    secondary = make_identity(key_a, sources=["http://other.net/alice.xml", ALICE_URL])
    assert post(site, secondary).result().code == 200


def test_default_port_server(store: IdentityStore, clock: task.Clock, rec: LogRecorder, key_a: RsaKey) -> None:
    site = _site(store, clock, rec, host="id.net", port=80)
    response = post(site, make_identity(key_a, sources=["http://id.net/alice.xml"])).result()
    assert response.json()["result"]["idurl"] == "http://id.net/alice.xml"


def test_too_large_by_content_length(store: IdentityStore, clock: task.Clock, rec: LogRecorder, key_a: RsaKey) -> None:
    site = _site(store, clock, rec, max_size=500)
    body = make_identity(key_a).to_xml().encode()
    assert len(body) > 500
    response = post(site, body).result()
    assert response.code == 413
    assert "500 byte limit" in response.json()["errors"][0]


def test_too_large_chunked_body(store: IdentityStore, clock: task.Clock, rec: LogRecorder) -> None:
    site = _site(store, clock, rec, max_size=1000)
    chunks = b"".join(b"%x\r\n%s\r\n" % (500, b"x" * 500) for _ in range(5)) + b"0\r\n\r\n"
    call = Call(site, b"POST /alice.xml HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    response = call.result()
    assert response.code == 413


def test_limited_request_stops_buffering(store: IdentityStore, clock: task.Clock, rec: LogRecorder) -> None:
    site = _site(store, clock, rec, max_size=100)
    req = site.requestFactory(DummyChannel())
    req.gotLength(None)
    req.handleContentChunk(b"x" * 60)
    req.handleContentChunk(b"x" * 60)
    req.handleContentChunk(b"x" * 10_000)
    assert req.body_too_large
    assert req.content.getvalue() == b""
    big = site.requestFactory(DummyChannel())
    big.gotLength(10**9)
    assert big.body_too_large


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(site: Any, method: str) -> None:
    response = request(site, method, "/alice.xml").result()
    assert response.code == 405
    assert response.headers[b"allow"] == b"GET, HEAD, POST"


def test_internal_errors_are_500_without_traceback(store, clock, rec, key_a: RsaKey) -> None:
    def broken(fn: Any, *args: Any) -> defer.Deferred[Any]:
        return defer.fail(RuntimeError("disk on fire"))

    response = post(_site(store, clock, rec, run_blocking=broken), make_identity(key_a)).result()
    assert response.code == 500
    assert response.json() == {"status": "ERROR", "errors": ["internal error"]}
    assert any("disk on fire" in str(event.get("log_failure")) for event in rec.events)


# -- concurrency --------------------------------------------------------------------------------


def test_concurrent_registrations_of_one_name_one_wins(store, clock, rec, key_a: RsaKey, key_b: RsaKey) -> None:
    blocking = QueuedBlocking()
    site = _site(store, clock, rec, run_blocking=blocking)
    first = post(site, make_identity(key_a, revision=1))
    second = post(site, make_identity(key_b, revision=1))
    assert len(blocking.calls) == 2  # both documents are being parsed
    blocking.run_next(1)  # second document parsed first: takes the lock, queues its write
    blocking.run_next(0)  # first document parsed: waits for the lock
    assert len(blocking.calls) == 1
    assert first.response() is None and second.response() is None
    blocking.run_all()
    codes = sorted([first.result().code, second.result().code])
    assert codes == [200, 409]
    assert second.result().code == 200
    assert Identity.from_xml(request(site, "GET", "/alice.xml").result().body).public_key == key_b.public_openssh()
    assert site.resource._locks == {}


@pytest.mark.parametrize(("parsed_first", "codes"), [(0, [200, 200]), (1, [409, 200])])
def test_concurrent_revisions_never_go_backwards(store, clock, rec, key_a: RsaKey, parsed_first: int, codes) -> None:
    blocking = QueuedBlocking()
    site = _site(store, clock, rec, run_blocking=blocking)
    calls = [post(site, make_identity(key_a, revision=2)), post(site, make_identity(key_a, revision=3))]
    blocking.run_next(parsed_first)  # this one takes the lock and queues its write
    blocking.run_next(0)  # the other one is parsed and waits for the lock
    blocking.run_all()
    assert [call.result().code for call in calls] == codes
    assert Identity.from_xml(request(site, "GET", "/alice.xml").result().body).revision == 3


def test_client_gone_before_answer(store, clock, rec, key_a: RsaKey) -> None:
    blocking = QueuedBlocking()
    site = _site(store, clock, rec, run_blocking=blocking)
    call = post(site, make_identity(key_a))
    call.channel.connectionLost(Failure(ConnectionDone("client went away")))
    blocking.run_all()
    assert store.entry("alice") is not None  # the registration itself completed
    assert not [event for event in rec.events if event.get("log_failure")]


# -- restarts and the cache ---------------------------------------------------------------------


def test_restart_keeps_files(site: Any, folder: Path, clock, rec, key_a: RsaKey, key_b: RsaKey) -> None:
    alice = make_identity(key_a, revision=3)
    assert post(site, alice).result().code == 200
    assert post(site, make_identity(key_b, "bob"), path="/bob.xml").result().code == 200
    (folder / "junk.xml").write_bytes(b"garbage")
    (folder / "carol.xml").write_text(make_identity(key_b, "dave").to_xml())

    restarted = IdentityStore(folder, log=rec.log)
    assert restarted.load() == 2
    assert restarted.names() == ["alice", "bob"]
    site2 = _site(restarted, clock, rec)
    assert Identity.from_xml(request(site2, "GET", "/alice.xml").result().body) == alice
    assert post(site2, make_identity(key_b, revision=9)).result().code == 409  # the name is still held
    assert post(site2, make_identity(key_a, revision=3)).result().code == 200
    assert IdentityStore(folder / "missing").load() == 0


def test_cache_fetches_from_the_server(site: Any, store, clock, tmp_path: Path, key_a: RsaKey) -> None:
    alice = make_identity(key_a, revision=2)
    assert post(site, alice).result().code == 200
    http_get = make_http_get(clock, client=StubTreq(site.resource))
    cache = IdentityCache(tmp_path / "cache", http_get=http_get, clock=clock, log=Logger(observer=lambda e: None))
    results: list[Any] = []
    cache.fetch(ALICE_URL).addBoth(results.append)
    assert results == [alice]
    failures: list[Any] = []
    cache.fetch("http://localhost:8084/nobody.xml").addBoth(failures.append)
    assert failures[0].value.reason == "http-status"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest_twisted.inlineCallbacks
def test_real_loopback_port(tmp_path: Path, key_a: RsaKey) -> Any:
    import treq
    from twisted.internet import reactor, threads

    port = _free_port()
    quiet = Logger(observer=lambda event: None)
    store = IdentityStore(tmp_path / "server", log=quiet)
    site = make_identity_server_site(store, host="127.0.0.1", port=port, run_blocking=threads.deferToThread, log=quiet)
    listening = reactor.listenTCP(port, site, interface="127.0.0.1")
    try:
        alice = make_identity(key_a, sources=[f"http://127.0.0.1:{port}/alice.xml"])
        response = yield treq.post(f"http://127.0.0.1:{port}/alice.xml", data=alice.to_xml().encode(), persistent=False)
        assert response.code == 200
        assert (yield response.json())["result"]["idurl"] == f"http://127.0.0.1:{port}/alice.xml"
        http_get = make_http_get(reactor)
        status, body = yield http_get(f"http://127.0.0.1:{port}/alice.xml", 5)
        assert status == 200
        assert Identity.from_xml(body) == alice
        status, _body = yield http_get(f"http://127.0.0.1:{port}/bob.xml", 5)
        assert status == 404
    finally:
        yield listening.stopListening()
