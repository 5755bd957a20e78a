"""The identity server's HTTP side: ``GET /<name>.xml`` serves, ``POST /<name>.xml`` registers.

An identity server is a dumb, careful notary. It hosts a user's signed document at the IDURL the
document itself names, and lets it change only when the new document is signed by the key that
already holds the name and carries a higher revision. It never needs to trust anyone: every rule is
checked on the document. What it refuses, and how:

* 413 when the body is over the size limit (the request object stops buffering at the limit, so a
  huge upload costs no memory);
* 400 when the document is malformed, unsigned, wrongly signed, posted under another name, or does
  not list this server among its sources (the server hosts only identities that point to it);
* 409 when the name is held by another key, or the revision is not higher than the stored one;
  re-posting the stored document (same content) is an idempotent 200.

* 429, 403 or 507 when a quota of :mod:`bitdust.userid.identity_quotas` says no: too many
  registrations under way or new names created from the client's address, too many names held by
  the posting key, or a full server. Updates of a hosted name pass the count quotas.

Registrations of one name are serialized with a per-name ``DeferredLock``, so two concurrent
POSTs can never both win. Parsing with signature checks, disk reads and disk writes go through
``run_blocking`` (a worker thread in production). :class:`~bitdust.userid.identity_store.IdentityStore`
keeps one ``<name>.xml`` per user on disk and only an index and a small cache in memory; the service
calls its blocking ``load()`` before listening.
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from typing import TypedDict, cast

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from bitdust.main.collaborators import RunBlocking
from bitdust.main.errors import InvalidInput, OutOfSpace, Refused, TooLarge
from bitdust.userid.errors import IdentityConflict, IdentityError
from bitdust.userid.identity import MAX_IDENTITY_SIZE, Identity
from bitdust.userid.identity_quotas import IdentityServerLimits, QuotaExceeded, RegistrationQuotas
from bitdust.userid.identity_store import IdentityStore, key_id_of
from bitdust.userid.idurl import IdUrl, check_host, check_port


class Registration(TypedDict):
    """The ``result`` of a successful registration: where the document is hosted, at which revision."""

    idurl: str
    revision: int


DEFAULT_WEB_PORT = 8084
"""``services/identity-server/web-port`` in the original."""

_PATH_RE = re.compile(rb"/([a-z0-9_-]{3,20})\.xml")

__all__ = ["DEFAULT_WEB_PORT", "IdentityServerResource", "IdentityStore", "make_identity_server_site"]


class _LimitedRequest(Request):
    """A request that keeps at most ``max_body`` bytes of body in memory and flags the rest."""

    max_body = MAX_IDENTITY_SIZE
    body_too_large = False

    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted hook
        self._new_body()
        if length is not None and length > self.max_body:
            self.body_too_large = True

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted hook
        if self.body_too_large:
            return
        if self._body.tell() + len(data) > self.max_body:
            self.body_too_large = True
            self._new_body()
            return
        self._body.write(data)

    def _new_body(self) -> None:
        """An empty body buffer, which is also the request's ``content`` that Twisted reads."""
        self._body = BytesIO()
        # twisted.web.http.Request declares ``content = None`` at class level (its own gotLength
        # assigns a file too), so mypy takes the attribute's type to be None
        self.content = self._body  # type: ignore[assignment]


class IdentityServerResource(Resource):
    """The whole URL space of an identity server (a leaf: no children, no directory listing)."""

    isLeaf = True

    def __init__(
        self,
        store: IdentityStore,
        *,
        host: str,
        port: int,
        run_blocking: RunBlocking,
        clock: IReactorTime,
        log: Logger | None = None,
        max_size: int = MAX_IDENTITY_SIZE,
        limits: IdentityServerLimits | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.host = check_host(host)
        self.port = check_port(port)
        self.max_size = max_size
        self.quotas = RegistrationQuotas(
            limits if limits is not None else IdentityServerLimits(),
            now=clock.seconds,
            stored=lambda: len(store),
            held_by=store.names_held_by,
        )
        self._run_blocking = run_blocking
        self._log = log if log is not None else Logger(namespace="bitdust.userid.identity_server")
        self._locks: dict[str, defer.DeferredLock] = {}

    def idurl_for(self, name: str) -> IdUrl:
        """Where this server serves ``name``: the source a hosted document must list."""
        return IdUrl(self.host, self.port, name)

    def render(self, request: Request) -> bytes | int:
        try:
            if request.method in (b"GET", b"HEAD"):
                return self._render_get(request)
            if request.method == b"POST":
                return self._render_post(request)
            request.setHeader(b"allow", b"GET, HEAD, POST")
            return _error(request, 405, "method not allowed: use GET or POST")
        except Exception:  # last line of defence: log it, never send a traceback
            self._log.failure("identity server failed on {path}", path=request.path)
            return _error(request, 500, "internal error")

    def _name_of(self, request: Request) -> str | None:
        match = _PATH_RE.fullmatch(request.path or b"")
        return match.group(1).decode("ascii") if match else None

    # -- GET: the index answers 404s, the cache hot documents, the disk the rest -------------------

    def _render_get(self, request: Request) -> bytes | int:
        name = self._name_of(request)
        if name is None or name not in self.store:
            return _error(request, 404, "no such identity")
        data = self.store.cached(name)
        if data is not None:
            return _document(request, data)
        gone = _watch(request)
        d = self._run_blocking(self.store.read, name)
        d.addCallbacks(self._read, self._read_failed, callbackArgs=(request, gone, name), errbackArgs=(request, gone))
        d.addErrback(lambda failure: self._log.failure("identity server could not answer", failure))
        return NOT_DONE_YET

    def _read(self, data: bytes | None, request: Request, gone: list[bool], name: str) -> None:
        if data is not None:
            self.store.cache(name, data)
        if not gone:
            request.write(_document(request, data) if data is not None else _error(request, 404, "no such identity"))
            request.finish()

    def _read_failed(self, failure: Failure, request: Request, gone: list[bool]) -> None:
        self._log.failure("identity server could not read a stored identity", failure)
        if not gone:
            request.write(_error(request, 500, "internal error"))
            request.finish()

    # -- POST -------------------------------------------------------------------------------------

    def _render_post(self, request: Request) -> bytes | int:
        name = self._name_of(request)
        if name is None:
            return _error(request, 404, "post an identity to /<name>.xml")
        length = request.getHeader(b"content-length")
        too_large = getattr(request, "body_too_large", False)
        if length is not None and length.isdigit() and int(length) > self.max_size:
            too_large = True
        body = b""
        if not too_large and request.content is not None:
            request.content.seek(0)
            body = request.content.read(self.max_size + 1)
            too_large = len(body) > self.max_size
        if too_large:
            return _error(request, 413, f"identity document is over the {self.max_size} byte limit")
        address = _client_address(request)
        try:
            self.quotas.begin(address)
        except QuotaExceeded as exc:
            return self._refuse(request, name, exc)
        try:
            if name not in self.store and not self.quotas.is_reserved(name):
                self.quotas.check_new_name(address)  # refuse before paying for a signature check
        except QuotaExceeded as exc:
            self.quotas.end(address)
            return self._refuse(request, name, exc)
        gone = _watch(request)
        d = self._run_blocking(Identity.from_xml, body)
        d.addCallback(self._register, name, address)
        d.addBoth(self._ended, address)
        d.addCallbacks(self._succeeded, self._failed, callbackArgs=(request, gone), errbackArgs=(request, gone, name))
        d.addErrback(lambda failure: self._log.failure("identity server could not answer", failure))
        return NOT_DONE_YET

    def _refuse(self, request: Request, name: str, exc: QuotaExceeded) -> bytes:
        # debug, not info: a flood of refused requests must not become a flood of log lines
        self._log.debug(
            "identity registration for {name} refused ({code}): {message}",
            name=name,
            code=_refusal_status(exc),
            message=exc.message,
        )
        return _error(request, _refusal_status(exc), exc.message)

    def _ended(self, result: object, address: str) -> object:
        self.quotas.end(address)
        return result

    def _register(self, identity: Identity, name: str, address: str) -> defer.Deferred[Registration]:
        if identity.name != name:
            raise IdentityError(f"the document is for {identity.name!r}, posted to /{name}.xml")
        mine = self.idurl_for(name)
        if mine not in identity.sources:
            raise IdentityError(
                f"none of the document's sources is {mine.url}: this server hosts only identities that point to it"
            )
        lock = self._locks.setdefault(name, defer.DeferredLock())
        d: defer.Deferred[Registration] = lock.run(self._store_locked, identity, mine, address)
        d.addBoth(self._drop_lock, name, lock)
        return d

    def _drop_lock(self, result: object, name: str, lock: defer.DeferredLock) -> object:
        if self._locks.get(name) is lock and not lock.locked and not lock.waiting:
            del self._locks[name]
        return result

    def _store_locked(self, identity: Identity, mine: IdUrl, address: str) -> defer.Deferred[Registration]:
        """Under the name's lock: the registration rules, then the quotas for a new name, then the write."""
        result: Registration = {"idurl": mine.url, "revision": identity.revision}
        key_id = key_id_of(identity.public_key)
        stored = self.store.entry(identity.name)
        if stored is not None:
            if stored.key_id != key_id:
                raise IdentityConflict(f"the name {identity.name!r} is held by another public key")
            if identity.revision > stored.revision:
                return self._write(identity, mine, result)
            return self._stored_identity(identity.name).addCallback(
                self._same_or_conflict, identity, stored.revision, result
            )
        self.quotas.reserve(identity.name, key_id, address)
        d = self._write(identity, mine, result)

        def released(outcome: object) -> object:
            self.quotas.release(identity.name, stored=not isinstance(outcome, Failure))
            return outcome

        return d.addBoth(released)

    def _stored_identity(self, name: str) -> defer.Deferred[Identity | None]:
        data = self.store.cached(name)
        if data is not None:
            return self._run_blocking(Identity.from_xml, data)
        return self._run_blocking(self.store.read_identity, name)

    @staticmethod
    def _same_or_conflict(
        stored: Identity | None, identity: Identity, revision: int, result: Registration
    ) -> Registration:
        if stored is not None and identity.same_content(stored):
            return result  # the stored document again: an idempotent 200
        raise IdentityConflict(f"revision {identity.revision} is not higher than the stored revision {revision}")

    def _write(self, identity: Identity, mine: IdUrl, result: Registration) -> defer.Deferred[Registration]:
        d = self._run_blocking(self.store.write, identity)

        def written(data: bytes) -> Registration:
            self.store.remember(identity, data)
            self._log.info("identity {idurl} stored, revision {revision}", idurl=mine.url, revision=identity.revision)
            return result

        return d.addCallback(written)

    def _succeeded(self, result: Registration, request: Request, gone: list[bool]) -> None:
        if not gone:
            request.write(_body(request, 200, {"status": "OK", "result": result}))
            request.finish()

    def _failed(self, failure: Failure, request: Request, gone: list[bool], name: str) -> None:
        if failure.check(IdentityConflict):
            code, message = 409, failure.value.message
        elif failure.check(QuotaExceeded):
            code, message = _refusal_status(failure.value), failure.value.message
        elif failure.check(TooLarge):
            code, message = 413, failure.value.message
        elif failure.check(InvalidInput):
            code, message = 400, failure.value.message
        else:
            self._log.failure("identity registration for {name} failed", failure, name=name)
            code, message = 500, "internal error"
        if code != 500:
            self._log.info(
                "identity registration for {name} refused ({code}): {message}", name=name, code=code, message=message
            )
        if not gone:
            request.write(_error(request, code, message))
            request.finish()


def _refusal_status(exc: QuotaExceeded) -> int:
    """The status this server answers a quota refusal with (its own wire protocol, not the local API)."""
    if isinstance(exc, OutOfSpace):
        return 507
    if isinstance(exc, Refused):
        return 403
    return 429


def _watch(request: Request) -> list[bool]:
    """A flag list that becomes non-empty when the client goes away before the answer."""
    gone: list[bool] = []
    request.notifyFinish().addErrback(lambda _f: gone.append(True))
    return gone


def _client_address(request: Request) -> str:
    """The peer's IP address: the unit the per-address quotas count (a UNIX socket counts as one)."""
    peer = request.getClientAddress()
    return str(getattr(peer, "host", "local"))


def _document(request: Request, data: bytes) -> bytes:
    request.setHeader(b"content-type", b"text/xml; charset=utf-8")
    request.setHeader(b"cache-control", b"no-cache")
    request.setHeader(b"content-length", b"%d" % len(data))
    return data


def _body(request: Request, code: int, payload: dict[str, object]) -> bytes:
    data = json.dumps(payload).encode("utf-8")
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"content-length", b"%d" % len(data))
    return data


def _error(request: Request, code: int, message: str) -> bytes:
    return _body(request, code, {"status": "ERROR", "errors": [message]})


def make_identity_server_site(
    store: IdentityStore,
    *,
    host: str,
    port: int,
    run_blocking: RunBlocking,
    log: Logger | None = None,
    max_size: int = MAX_IDENTITY_SIZE,
    reactor: IReactorTime | None = None,
    limits: IdentityServerLimits | None = None,
) -> Site:
    """A ``Site`` serving ``store`` as the identity server ``http://host:port/``.

    ``reactor`` drives the HTTP idle timeouts and the per-address quota window (a ``Clock`` in
    tests; the global reactor if omitted). ``limits`` are the quotas (their defaults if omitted).
    """
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = cast(IReactorTime, global_reactor)
    resource = IdentityServerResource(
        store,
        host=host,
        port=port,
        run_blocking=run_blocking,
        clock=reactor,
        log=log,
        max_size=max_size,
        limits=limits,
    )
    request_class = type("IdentityServerRequest", (_LimitedRequest,), {"max_body": max_size})
    site = Site(resource, requestFactory=request_class, reactor=reactor)
    site.displayTracebacks = False
    return site
