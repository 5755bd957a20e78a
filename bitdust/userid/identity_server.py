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

Registrations of one name are serialized with a per-name ``DeferredLock``, so two concurrent
POSTs can never both win. Parsing with signature checks and disk writes go through
``run_blocking`` (a worker thread in production). :class:`IdentityStore` keeps one ``<name>.xml``
per user, written atomically; the service calls its blocking ``load()`` before listening.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from bitdust.main.errors import BadRequest, PayloadTooLarge
from bitdust.main.fileutil import atomic_write
from bitdust.userid.errors import IdentityConflict, IdentityError
from bitdust.userid.identity import MAX_IDENTITY_SIZE, Identity
from bitdust.userid.idurl import USERNAME_RE, IdUrl, check_host, check_port, check_username

RunBlocking = Callable[..., "defer.Deferred[Any]"]
DEFAULT_WEB_PORT = 8084
"""``services/identity-server/web-port`` in the original."""

_PATH_RE = re.compile(rb"/([a-z0-9_-]{3,20})\.xml")


class IdentityStore:
    """The identities this server hosts: ``<name>.xml`` files, mirrored in memory for serving.

    ``load`` and ``write`` are blocking; ``get``/``xml``/``remember`` are memory only and belong to
    the reactor thread.
    """

    def __init__(self, folder: Path, *, log: Logger | None = None) -> None:
        self.folder = Path(folder)
        self._log = log if log is not None else Logger(namespace="bitdust.userid.identity_server")
        self._docs: dict[str, tuple[Identity, bytes]] = {}

    def path_for(self, name: str) -> Path:
        return self.folder / f"{check_username(name)}.xml"

    def load(self) -> int:
        """Blocking: read every stored identity; unreadable or misnamed files are logged and skipped."""
        self._docs.clear()
        if not self.folder.is_dir():
            return 0
        for path in sorted(self.folder.glob("*.xml")):
            name = path.name[:-4]
            if not USERNAME_RE.fullmatch(name):
                continue
            try:
                data = path.read_bytes()
                identity = Identity.from_xml(data)
            except (OSError, IdentityError) as exc:
                self._log.warn("skipping stored identity {path}: {error}", path=str(path), error=str(exc))
                continue
            if identity.name != name:
                self._log.warn(
                    "skipping stored identity {path}: it is for {other}", path=str(path), other=identity.name
                )
                continue
            self._docs[name] = (identity, data)
        return len(self._docs)

    def get(self, name: str) -> Identity | None:
        entry = self._docs.get(name)
        return entry[0] if entry is not None else None

    def xml(self, name: str) -> bytes | None:
        """The stored document exactly as it is on disk."""
        entry = self._docs.get(name)
        return entry[1] if entry is not None else None

    def names(self) -> list[str]:
        return sorted(self._docs)

    def write(self, identity: Identity) -> bytes:
        """Blocking: write ``identity`` atomically; returns the bytes for :meth:`remember`."""
        data = identity.to_xml().encode("utf-8")
        atomic_write(self.path_for(identity.name), data)
        return data

    def remember(self, identity: Identity, data: bytes) -> None:
        """Serve ``data`` for ``identity.name`` from now on (after :meth:`write` succeeded)."""
        self._docs[identity.name] = (identity, data)


class _LimitedRequest(Request):
    """A request that keeps at most ``max_body`` bytes of body in memory and flags the rest."""

    max_body = MAX_IDENTITY_SIZE
    body_too_large = False

    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted hook
        self.content = BytesIO()
        if length is not None and length > self.max_body:
            self.body_too_large = True

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted hook
        if self.body_too_large:
            return
        if self.content.tell() + len(data) > self.max_body:
            self.body_too_large = True
            self.content = BytesIO()
            return
        self.content.write(data)


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
        log: Logger | None = None,
        max_size: int = MAX_IDENTITY_SIZE,
    ) -> None:
        super().__init__()
        self.store = store
        self.host = check_host(host)
        self.port = check_port(port)
        self.max_size = max_size
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

    def _render_get(self, request: Request) -> bytes:
        name = self._name_of(request)
        data = self.store.xml(name) if name is not None else None
        if data is None:
            return _error(request, 404, "no such identity")
        request.setHeader(b"content-type", b"text/xml; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        return data

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
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _f: gone.append(True))
        d = self._run_blocking(Identity.from_xml, body)
        d.addCallback(self._register, name)
        d.addCallbacks(self._succeeded, self._failed, callbackArgs=(request, gone), errbackArgs=(request, gone, name))
        d.addErrback(lambda failure: self._log.failure("identity server could not answer", failure))
        return NOT_DONE_YET

    def _register(self, identity: Identity, name: str) -> defer.Deferred[dict[str, Any]]:
        if identity.name != name:
            raise IdentityError(f"the document is for {identity.name!r}, posted to /{name}.xml")
        mine = self.idurl_for(name)
        if mine not in identity.sources:
            raise IdentityError(
                f"none of the document's sources is {mine.url}: this server hosts only identities that point to it"
            )
        lock = self._locks.setdefault(name, defer.DeferredLock())
        d = lock.run(self._store_locked, identity, mine)
        d.addBoth(self._drop_lock, name, lock)
        return d

    def _drop_lock(self, result: Any, name: str, lock: defer.DeferredLock) -> Any:
        if self._locks.get(name) is lock and not lock.locked and not lock.waiting:
            del self._locks[name]
        return result

    def _store_locked(self, identity: Identity, mine: IdUrl) -> dict[str, Any] | defer.Deferred[dict[str, Any]]:
        result = {"idurl": mine.url, "revision": identity.revision}
        stored = self.store.get(identity.name)
        if stored is not None:
            if stored.public_key != identity.public_key:
                raise IdentityConflict(f"the name {identity.name!r} is held by another public key")
            if identity.same_content(stored):
                return result
            if identity.revision <= stored.revision:
                raise IdentityConflict(
                    f"revision {identity.revision} is not higher than the stored revision {stored.revision}"
                )
        d = self._run_blocking(self.store.write, identity)

        def written(data: bytes) -> dict[str, Any]:
            self.store.remember(identity, data)
            self._log.info("identity {idurl} stored, revision {revision}", idurl=mine.url, revision=identity.revision)
            return result

        return d.addCallback(written)

    def _succeeded(self, result: dict[str, Any], request: Request, gone: list[bool]) -> None:
        if not gone:
            request.write(_body(request, 200, {"status": "OK", "result": result}))
            request.finish()

    def _failed(self, failure: Failure, request: Request, gone: list[bool], name: str) -> None:
        if failure.check(IdentityConflict):
            code, message = 409, failure.value.message
        elif failure.check(PayloadTooLarge):
            code, message = 413, failure.value.message
        elif failure.check(BadRequest):
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


def _body(request: Request, code: int, payload: dict[str, Any]) -> bytes:
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
) -> Site:
    """A ``Site`` serving ``store`` as the identity server ``http://host:port/``.

    ``reactor`` drives the HTTP idle timeouts (a ``Clock`` in tests; the global one if omitted).
    """
    resource = IdentityServerResource(
        store, host=host, port=port, run_blocking=run_blocking, log=log, max_size=max_size
    )
    request_class = type("IdentityServerRequest", (_LimitedRequest,), {"max_body": max_size})
    site = Site(resource, requestFactory=request_class, reactor=reactor)
    site.displayTracebacks = False
    return site
