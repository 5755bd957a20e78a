"""The REST side of the API: a ``twisted.web`` site in front of an :class:`ApiRegistry`.

Every answer is a JSON envelope with ``Content-Length`` set, so clients can keep the connection
alive. The checks run in this order, and nothing reaches an API method unless all pass:

1. head size (:mod:`bitdust.interface.rest_channel`): a request line over the limit is answered
   414, a header section over it 431;
2. body size (``max_request_size``): answered 413 as soon as the headers announce too much, or
   as soon as a chunked body grows past it, and nothing more is read;
3. the client is on this machine (127.0.0.1 or ::1), else 403;
4. when the engine has a secret, exactly one header ``api_secret`` matches it (constant time),
   else 401; two such headers are refused rather than one picked;
5. ``GET /openapi.json`` serves the OpenAPI document; otherwise the route must exist (404) and
   take this verb (405 with ``Allow``);
6. parameters: the query string for every verb, plus a JSON object body for POST/PUT/DELETE
   (a GET body is ignored). A parameter named in two places, or twice in one, is a 400, not
   "the last wins". Every piece of text is decoded by :mod:`bitdust.interface.api.decoding`
   (strict UTF-8, strict JSON), the same check as the WebSocket's, and a problem is a 400
   naming the parameter. A query parameter whose name starts with ``_`` (a browser's or a
   library's cache buster such as ``_=1712345``) is ignored: no API parameter is named so.

A long poll whose client disconnects is cancelled and nothing is written. Exceptions never
reach twisted.web's own error page: anything unexpected is logged and answered as a 500 envelope.
"""

from __future__ import annotations

import hmac
import io
from collections.abc import Callable, Sequence
from typing import IO, Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import http, server
from twisted.web.resource import Resource

from bitdust.interface.api import decoding, envelope
from bitdust.interface.api.registry import ApiRegistry, CallResult, split_path
from bitdust.interface.error_statuses import status_of
from bitdust.interface.rest_channel import JSON_TYPE, ApiChannel
from bitdust.main.errors import InvalidInput

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
BODY_VERBS = frozenset({"POST", "PUT", "DELETE"})
MAX_QUERY_FIELDS = 200
IGNORED_QUERY_PREFIX = "_"
DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024
OPENAPI_PATH = "openapi.json"


def read_limit(limit: Callable[[], int] | int) -> int:
    """The configured size limit, or the default when the setting is missing or broken.

    It is read while bytes arrive, deep inside twisted.web: an exception there would drop the
    connection without an answer, so a bad setting falls back rather than raising.
    """
    try:
        value = int(limit() if callable(limit) else limit)
    except Exception:
        return DEFAULT_MAX_REQUEST_SIZE
    return value if value > 0 else DEFAULT_MAX_REQUEST_SIZE


def is_loopback(host: str | None) -> bool:
    return host in LOOPBACK_HOSTS


def secret_matches(expected: str | None, given: bytes | str | Sequence[bytes] | Sequence[str] | None) -> bool:
    """True when no secret is set, or ``given`` equals it; compared in constant time.

    ``given`` may be every value the client sent: more than one never matches, so a client (or a
    proxy that added its own) cannot have us choose which one counts.
    """
    if not expected:
        return True
    if given is None:
        return False
    if not isinstance(given, bytes | str):
        if len(given) != 1:
            return False
        given = given[0]
    given_bytes = given.encode("utf-8", "surrogateescape") if isinstance(given, str) else given
    return hmac.compare_digest(given_bytes, expected.encode("utf-8"))


class ApiRequest(server.Request):
    """A request that refuses an oversized body before buffering it.

    twisted.web would otherwise spool any body, however large, to a temporary file before the
    resource sees it; the limit is applied while the bytes arrive.
    """

    rejected = False
    #: always an ApiChannel: ApiSite builds only those, and a channel makes requests with itself
    channel: ApiChannel
    # Twisted's class attribute ``content = None`` makes mypy type the body as always None; its
    # docstring (and gotLength) say a binary file. None before the head is complete and after _cleanup.
    content: IO[bytes] | None  # type: ignore[assignment]

    def _limit(self) -> int:
        return read_limit(self.channel.site.max_request_size)

    def _body(self) -> IO[bytes]:
        """The body buffer; gotLength creates it before any body byte can arrive."""
        assert self.content is not None, "a body chunk before gotLength"
        return self.content

    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted hook
        self.content = io.BytesIO()
        if length is not None and length > self._limit():
            self._reject_too_large(length)

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted hook
        if self.rejected:
            return
        body = self._body()
        if body.tell() + len(data) > self._limit():
            self._reject_too_large(None)
            return
        body.write(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:  # noqa: N802
        if not self.rejected:
            super().requestReceived(command, path, version)

    def _reject_too_large(self, length: int | None) -> None:
        """Answer 413 right away (the request line is not even parsed yet) and read no more."""
        self.rejected = True
        self.content = io.BytesIO()
        limit = self._limit()
        size = f"{length} bytes" if length is not None else "a chunked body"
        # twisted.web would answer "Expect: 100-continue" after this; there is nothing to continue.
        self.requestHeaders.removeHeader(b"expect")
        self.channel.refuse_and_close(
            413, b"Payload Too Large", f"request body too large: {size}, the limit is {limit} bytes"
        )


class ApiResource(Resource):
    """The single leaf resource: routing is the registry's, not twisted.web's tree."""

    isLeaf = True

    def __init__(
        self,
        registry: ApiRegistry,
        secret: Callable[[], str | None],
        openapi: Callable[[], dict[str, Any]],
        log: Logger,
    ) -> None:
        super().__init__()
        self._registry = registry
        self._secret = secret
        self._openapi = openapi
        self._log = log

    def render(self, request: ApiRequest) -> int:
        """Answer ``request``; ApiSite's requests are all ApiRequests (its ``requestFactory``)."""
        try:
            self._handle(request)
        except Exception:
            self._log.failure("REST request {uri} failed", uri=_show_bytes(request.uri))
            _send_internal_error(request)
        return server.NOT_DONE_YET

    def _handle(self, request: ApiRequest) -> None:
        verb = request.method.decode("ascii", "replace").upper()
        raw_path, _, raw_query = request.uri.partition(b"?")
        raw_path = raw_path.partition(b"#")[0]
        path = raw_path.decode("utf-8", "replace")
        shown = f"{verb} /{path.strip('/')}"
        peer = request.getClientAddress()
        if not is_loopback(getattr(peer, "host", None)):
            return send_json(request, 403, envelope.error(["forbidden: the API only serves local clients"], 0.0))
        secrets = request.requestHeaders.getRawHeaders(b"api_secret")
        if not secret_matches(self._secret(), secrets):
            reason = "api_secret header given more than once" if secrets and len(secrets) > 1 else None
            reason = reason or "missing or wrong api_secret header"
            return send_json(request, 401, envelope.error([f"unauthorized: {reason}"], 0.0))
        if split_path(path) == [OPENAPI_PATH]:
            if verb != "GET":
                return _send_not_allowed(request, shown, ["GET"])
            return send_json(request, 200, self._openapi())
        found = self._registry.match(verb, path)
        if found is None:
            allowed = self._registry.allowed_verbs(path)
            if allowed:
                return _send_not_allowed(request, shown, allowed)
            return send_json(request, 404, envelope.error([f"unknown route: {_clip(shown)}"], 0.0))
        spec, raw_args = found
        try:
            path_args = parse_path_args(raw_args)
            query = parse_query(raw_query)
            body = parse_body(request) if verb in BODY_VERBS else {}
        except InvalidInput as exc:
            return send_json(request, status_of(exc), envelope.error(list(exc.errors), 0.0))
        call = self._registry.call_request(spec, path_args=path_args, query=query, body=body)
        self._answer_when_done(request, call)

    def _answer_when_done(self, request: server.Request, call: defer.Deferred[CallResult]) -> None:
        gone = False

        def client_gone(_failure: Failure) -> None:
            nonlocal gone
            gone = True
            call.cancel()

        request.notifyFinish().addErrback(client_gone)

        def answer(result: CallResult) -> None:
            if not gone:
                send_json(request, *result)

        def failed(failure: Failure) -> None:
            if gone and failure.check(defer.CancelledError):
                return
            self._log.failure("REST call {uri} failed", failure, uri=_show_bytes(request.uri))
            if not gone:
                _send_internal_error(request)

        call.addCallback(answer).addErrback(failed)


def parse_path_args(raw_args: dict[str, str]) -> dict[str, str]:
    """The route's ``{name}`` segments as text; a segment that is not UTF-8 is a 400 naming it.

    twisted.web lets only printable ASCII into the request target, so percent-decoding is where
    a segment can turn out not to be text.
    """
    args: dict[str, str] = {}
    for name, value in raw_args.items():
        try:
            args[name] = decoding.url_text(value)
        except UnicodeDecodeError:
            raise InvalidInput(f"parameter {name}: the path segment is not valid UTF-8") from None
    return args


def parse_query(raw_query: bytes) -> dict[str, list[str]]:
    """Query string arguments, each name mapped to all its values (URL-decoded UTF-8).

    Names starting with ``_`` are left out (cache busters). Each name and value must be UTF-8;
    a problem is reported with the parameter's name when the name itself is readable.
    """
    if not raw_query:
        return {}
    try:
        text = raw_query.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInput("query string is not valid: send non-ASCII text percent-encoded as UTF-8") from None
    fields = [field for field in text.split("&") if field]
    if len(fields) > MAX_QUERY_FIELDS:
        raise InvalidInput(f"query string has more than {MAX_QUERY_FIELDS} fields")
    query: dict[str, list[str]] = {}
    for field in fields:
        raw_name, _, raw_value = field.replace("+", " ").partition("=")
        try:
            name = decoding.url_text(raw_name)
        except UnicodeDecodeError:
            raise InvalidInput("a parameter name in the query string is not valid UTF-8") from None
        if name.startswith(IGNORED_QUERY_PREFIX):
            continue
        try:
            value = decoding.url_text(raw_value)
        except UnicodeDecodeError:
            raise InvalidInput(f"parameter {_clip(name, 60)}: the query string value is not valid UTF-8") from None
        query.setdefault(name, []).append(value)
    return query


def parse_body(request: ApiRequest) -> dict[str, Any]:
    """The JSON object in the request body; an empty body means no parameters.

    Decoded strictly (see :mod:`bitdust.interface.api.decoding`): a non-standard number, a
    lone surrogate or a repeated key anywhere is a 400 naming the parameter.
    """
    content = request.content
    assert content is not None, "the request is rendered before its head was complete"
    content.seek(0)
    raw = content.read()
    if not raw.strip():
        return {}
    try:
        decoded = decoding.loads(raw)
    except decoding.InvalidJson:
        raise InvalidInput("request body is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise InvalidInput("request body must be a JSON object")
    problem = decoding.find_problem(decoded)
    if problem is not None:
        raise InvalidInput(decoding.describe(problem, document="body"))
    return decoded


def send_json(
    request: server.Request, code: int, answer: dict[str, Any], headers: dict[bytes, bytes] | None = None
) -> None:
    """Write one complete JSON response with ``Content-Length``, so keep-alive works."""
    if request.finished or getattr(request, "_disconnected", False):
        return
    body = envelope.encode(answer, pretty=True)
    request.setResponseCode(code)
    request.setHeader(b"content-type", JSON_TYPE)
    request.setHeader(b"content-length", b"%d" % len(body))
    request.setHeader(b"cache-control", b"no-store")
    for name, value in (headers or {}).items():
        request.setHeader(name, value)
    request.write(body)
    request.finish()


def _send_not_allowed(request: server.Request, shown: str, allowed: list[str]) -> None:
    message = f"method not allowed: {_clip(shown)}; allowed: {', '.join(allowed)}"
    send_json(request, 405, envelope.error([message], 0.0), {b"allow": ", ".join(allowed).encode("ascii")})


def _send_internal_error(request: server.Request) -> None:
    if request.startedWriting:
        return
    send_json(request, 500, envelope.error(["internal error: see the engine log"], 0.0))


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _show_bytes(raw: bytes | None) -> str:
    return _clip((raw or b"").decode("utf-8", "replace"))


class ApiSite(server.Site):
    """A quiet site: no access log (the registry logs calls when asked), no traceback pages."""

    noisy = False
    displayTracebacks = False
    requestFactory = ApiRequest
    # Twisted types HTTPFactory.protocol as its HTTP/2-negotiating wrapper factory only, yet any
    # HTTPChannel class serves (Site.buildProtocol sets requestFactory and site on what it builds).
    protocol = ApiChannel  # type: ignore[assignment]

    def __init__(
        self, resource: ApiResource, max_request_size: Callable[[], int], *, reactor: IReactorTime | None = None
    ) -> None:
        # twisted.web takes the global reactor when ``reactor`` is None; no access log file
        super().__init__(resource, parsePOSTFormSubmission=False, logPath=None, reactor=reactor)
        self.max_request_size = max_request_size

    def log(self, request: http.Request) -> None:
        """No access log: URLs may carry secrets and the call log already covers API use."""

    def startFactory(self) -> None:  # noqa: N802 - Twisted hook
        """Skip the access log's file and its once-a-second clock."""

    def stopFactory(self) -> None:  # noqa: N802 - Twisted hook
        """Nothing was opened in startFactory."""


def make_rest_site(
    registry: ApiRegistry,
    secret: Callable[[], str | None],
    *,
    max_request_size: Callable[[], int] | int,
    openapi: Callable[[], dict[str, Any]],
    log: Logger | None = None,
    reactor: IReactorTime | None = None,
) -> ApiSite:
    """The REST site; ``secret`` and ``max_request_size`` are read on every request (config may change).

    ``reactor`` drives connection timeouts (a ``Clock`` in tests); the global reactor if None.
    """
    limit = max_request_size if callable(max_request_size) else (lambda: max_request_size)
    logger = log if log is not None else Logger(namespace="bitdust.interface.rest")
    resource = ApiResource(registry, secret, openapi, logger)
    return ApiSite(resource, limit, reactor=reactor)
