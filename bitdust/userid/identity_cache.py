"""Identities of other users, in memory and on disk, and fetching them from identity servers.

Every packet a node acts on is checked against its sender's identity, so this cache decides whom
we believe. Its one rule: an identity replaces the one we hold only if it is signed by the SAME
key and carries a HIGHER revision. A different key for a known IDURL is refused (somebody took
over a name, or a server lies); an older or equal revision is refused (a replay or a stale server).

Rotation: when a user moves to other identity servers, their new document lists new sources but
is signed by the same key. The cache keeps one current identity per key, so accepting the newer
document retires the old one and maps its IDURLs to the new primary (:meth:`resolve`); peers that
still know the user by an old IDURL find the current identity.

Threads: memory is only touched on the reactor thread. ``put`` and ``forget_memory`` are memory
only; ``persist`` and ``erase`` are the blocking disk halves; ``store``, ``forget`` and ``fetch`` do
both, running the disk part (and XML parsing with signature checks) through the injected
``run_blocking`` (``Engine.run_blocking`` in production; the default runs inline, for tests).
Disk writes are chained in order so an older document can never overwrite a newer one.
``load`` is blocking and meant to run once at startup, before the cache is shared.

Staleness: a held identity is never re-read on its own. :meth:`refresh` (and :meth:`refresh_if_older`)
re-fetch it from all its sources when the network gives a reason to think it is old; the pacing
and bounds that keep peers from driving those fetches live in :mod:`bitdust.userid.identity_refresh`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.errors import BadRequest
from bitdust.main.fileutil import atomic_write
from bitdust.userid.errors import IdentityError, IdentityFetchError, IdentitySignatureError
from bitdust.userid.http_fetch import HttpGet
from bitdust.userid.identity import MAX_IDENTITY_SIZE, Identity
from bitdust.userid.identity_refresh import IdentityRefresher
from bitdust.userid.idurl import IdUrl, parse_user_ref

RunBlocking = Callable[..., "defer.Deferred[Any]"]
MAX_ALIAS_HOPS = 16


def _run_inline(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args, **kwargs)


@attrs.define
class _Entry:
    identity: Identity
    fetched: float | None


class IdentityCache:
    """Known identities by IDURL; see the module docstring for the acceptance and threading rules."""

    def __init__(
        self,
        folder: Path,
        *,
        http_get: HttpGet,
        clock: IReactorTime,
        log: Logger | None = None,
        max_size: int = MAX_IDENTITY_SIZE,
        timeout: float = 10,
        run_blocking: RunBlocking | None = None,
    ) -> None:
        self.folder = Path(folder)
        self._http_get = http_get
        self._clock = clock
        self._log = log if log is not None else Logger(namespace="bitdust.userid.identity_cache")
        self._max_size = max_size
        self._timeout = timeout
        self._run_blocking = run_blocking if run_blocking is not None else _run_inline
        self._by_source: dict[IdUrl, _Entry] = {}
        self._by_key: dict[str, _Entry] = {}
        self._aliases: dict[IdUrl, IdUrl] = {}
        self._pending: dict[IdUrl, list[defer.Deferred[Identity]]] = {}
        self._writes = defer.DeferredLock()
        #: identity documents fetched over HTTP (one per request, however many waited on it), for packets_stats
        self.fetched = 0
        self.fetch_failures = 0
        self.fetched_bytes = 0
        self.refresher = IdentityRefresher(self, clock=clock, log=self._log)

    # -- lookups --------------------------------------------------------------------------------

    def resolve(self, idurl: IdUrl | str) -> IdUrl:
        """The current IDURL for ``idurl``: itself, or where its owner rotated to."""
        current = parse_user_ref(idurl)
        for _ in range(MAX_ALIAS_HOPS):
            nxt = self._aliases.get(current)
            if nxt is None:
                break
            current = nxt
        return current

    def get(self, idurl: IdUrl | str) -> Identity | None:
        """The current identity known by ``idurl`` (an old IDURL of a rotated user works too)."""
        entry = self._by_source.get(self.resolve(idurl))
        return entry.identity if entry is not None else None

    def __contains__(self, idurl: object) -> bool:
        if not isinstance(idurl, IdUrl | str):
            return False
        try:
            return self.get(idurl) is not None
        except BadRequest:
            return False

    def __len__(self) -> int:
        return len(self._by_key)

    def list(self) -> list[dict[str, Any]]:
        """One row per current identity, for ``identity_cache_list``."""
        rows = [
            {
                "idurl": entry.identity.idurl.url,
                "global_id": entry.identity.global_id,
                "revision": entry.identity.revision,
                "contacts": list(entry.identity.contacts),
                "fetched": entry.fetched,
            }
            for entry in self._by_key.values()
        ]
        return sorted(rows, key=lambda row: row["global_id"])

    def remember_rotation(self, old_idurl: IdUrl | str, new_idurl: IdUrl | str) -> None:
        """Map ``old_idurl`` to ``new_idurl`` (what the rotation code learned some other way)."""
        old, new = parse_user_ref(old_idurl), parse_user_ref(new_idurl)
        if old == new or self.resolve(new) == old:
            raise BadRequest(f"cannot map {old.url} to {new.url}: that would be a loop")
        self._aliases[old] = new

    # -- accepting ------------------------------------------------------------------------------

    def _judge(self, identity: Identity) -> tuple[str, str]:
        """``(verdict, reason)``; verdicts: new, newer, same, stale, other-key, bad-signature."""
        for source in identity.sources:
            holder = self._by_source.get(source)
            if holder is not None and holder.identity.public_key != identity.public_key:
                return "other-key", f"{source.url} is held by another public key"
        holder = self._by_key.get(identity.public_key)
        if holder is None:
            return "new", f"new identity {identity.global_id} revision {identity.revision}"
        known = holder.identity
        if identity.revision > known.revision:
            return "newer", f"{identity.global_id} revision {known.revision} -> {identity.revision}"
        if identity.revision == known.revision and identity.same_content(known):
            return "same", f"{identity.global_id} revision {identity.revision} is already known"
        return "stale", (
            f"{identity.global_id} revision {identity.revision} is not newer than the known revision {known.revision}"
        )

    def _install(self, identity: Identity, fetched: float | None) -> None:
        entry = _Entry(identity, fetched)
        old = self._by_key.get(identity.public_key)
        if old is not None:
            for source in old.identity.sources:
                self._by_source.pop(source, None)
                if source not in identity.sources:
                    self._aliases[source] = identity.idurl
        for source in identity.sources:
            self._aliases.pop(source, None)
            self._by_source[source] = entry
        self._by_key[identity.public_key] = entry

    def _accept(self, identity: Identity, *, verified: bool, fetched: float | None) -> tuple[str, str]:
        if not verified and not identity.verify():
            verdict, reason = "bad-signature", f"{identity.global_id}: signature does not verify"
        else:
            verdict, reason = self._judge(identity)
        if verdict in ("new", "newer"):
            self._install(identity, fetched)
            self._log.debug("identity accepted: {reason}", reason=reason)
        elif verdict == "same":
            self._by_key[identity.public_key].fetched = fetched
        else:
            self._log.warn("identity refused ({verdict}): {reason}", verdict=verdict, reason=reason)
        return verdict, reason

    def put(self, identity: Identity) -> bool:
        """Accept ``identity`` into memory if the rules allow; True when it is (or already was) current."""
        verdict, _reason = self._accept(identity, verified=False, fetched=self._clock.seconds())
        return verdict in ("new", "newer", "same")

    def store(self, identity: Identity, *, verified: bool = False) -> defer.Deferred[bool]:
        """:meth:`put`, then write the file if the identity was new or newer.

        ``verified``: the caller already checked the signature (in a worker thread, or it signed
        the document itself), so the reactor does not do the RSA work again.
        """
        verdict, _reason = self._accept(identity, verified=verified, fetched=self._clock.seconds())
        if verdict in ("new", "newer"):
            return self._write(identity).addCallback(lambda _: True)
        return defer.succeed(verdict == "same")

    # -- disk -----------------------------------------------------------------------------------

    def path_for(self, idurl: IdUrl) -> Path:
        """``<global_id>.xml``: host names cannot hold ``_`` or ``..``, so this is unique and safe."""
        return self.folder / f"{idurl.global_id}.xml"

    def persist(self, identity: Identity) -> None:
        """Blocking: write ``identity`` to its file atomically."""
        atomic_write(self.path_for(identity.idurl), identity.to_xml())

    def erase(self, idurls: list[IdUrl]) -> None:
        """Blocking: remove the files kept for ``idurls``."""
        for idurl in idurls:
            try:
                self.path_for(idurl).unlink()
            except FileNotFoundError:
                pass

    def _write(self, identity: Identity) -> defer.Deferred[None]:
        def write() -> defer.Deferred[None] | None:
            current = self._by_key.get(identity.public_key)
            if current is None or current.identity.revision > identity.revision:
                return None  # forgotten or superseded while waiting: never write an older document
            return self._run_blocking(self.persist, identity)

        d = self._writes.run(write)
        d.addErrback(self._write_failed, identity)
        return d

    def _write_failed(self, failure: Failure, identity: Identity) -> None:
        self._log.failure("could not write identity {global_id}", failure, global_id=identity.global_id)

    def load(self) -> int:
        """Blocking: read every stored identity; corrupt or misnamed files are logged and skipped."""
        found: list[tuple[Identity, float]] = []
        if not self.folder.is_dir():
            return 0
        for path in sorted(self.folder.glob("*.xml")):
            if path.name.startswith("."):
                continue
            try:
                data = path.read_bytes()
                identity = Identity.from_xml(data)
            except (OSError, IdentityError) as exc:
                self._log.warn("skipping identity file {path}: {error}", path=str(path), error=str(exc))
                continue
            if path.name != f"{identity.global_id}.xml":
                self._log.warn("skipping identity file {path}: it holds {gid}", path=str(path), gid=identity.global_id)
                continue
            found.append((identity, os.stat(path).st_mtime))
        # Oldest revisions first, so a rotated user's newer document retires the older one.
        for identity, mtime in sorted(found, key=lambda item: item[0].revision):
            self._accept(identity, verified=True, fetched=mtime)
        return len(self._by_key)

    def forget_memory(self, idurl: IdUrl | str) -> list[IdUrl]:
        """Drop the identity known by ``idurl`` from memory; returns the IDURLs whose files to erase."""
        entry = self._by_source.get(self.resolve(idurl))
        if entry is None:
            return []
        identity = entry.identity
        del self._by_key[identity.public_key]
        for source in identity.sources:
            self._by_source.pop(source, None)
        gone = list(identity.sources)
        for old in [old for old in self._aliases if self.resolve(old) in identity.sources]:
            del self._aliases[old]
            gone.append(old)
        return gone

    def forget(self, idurl: IdUrl | str) -> defer.Deferred[bool]:
        """Forget the identity known by ``idurl`` in memory and on disk; fires with whether it was known."""
        gone = self.forget_memory(idurl)
        if not gone:
            return defer.succeed(False)
        d = self._writes.run(self._run_blocking, self.erase, gone)
        d.addErrback(lambda failure: self._log.failure("could not erase identity files", failure))
        return d.addCallback(lambda _: True)

    # -- fetching -------------------------------------------------------------------------------

    def refresh(self, idurl: IdUrl | str, *, reason: str = "") -> defer.Deferred[Identity | None]:
        """Re-fetch the identity known by ``idurl`` from all its sources (paced); never fails.

        Fires with the identity held afterwards: the newer one when a server had it, else the
        held one, None when there is none.
        """
        return self.refresher.refresh(idurl, reason=reason)

    def refresh_if_older(self, idurl: IdUrl | str, revision: int) -> defer.Deferred[Identity | None]:
        """:meth:`refresh` when the held identity's revision is below ``revision`` (a peer's claim)."""
        return self.refresher.refresh_if_older(idurl, revision)

    def fetch(self, idurl: IdUrl | str) -> defer.Deferred[Identity]:
        """GET the identity at ``idurl``, check it, keep it; IdentityFetchError with a reason otherwise.

        Concurrent fetches of one IDURL share one request. A document older than the one we hold
        yields the held (newer) one; a document under another key is an error (``key-changed``).
        """
        try:
            target = parse_user_ref(idurl)
        except BadRequest as exc:
            return defer.fail(exc)
        if target in self._pending:
            waiter: defer.Deferred[Identity] = defer.Deferred()
            self._pending[target].append(waiter)
            return waiter
        self._pending[target] = []
        d: defer.Deferred[Any] = defer.maybeDeferred(self._http_get, target.url, self._timeout)
        d.addTimeout(self._timeout, self._clock, onTimeoutCancel=lambda _r, t: _timeout_failure(target, t))
        d.addErrback(_as_fetch_error, target)
        d.addCallback(self._got_response, target)
        d.addBoth(self._fetch_done, target)
        return d

    def _got_response(self, response: tuple[int, bytes], target: IdUrl) -> defer.Deferred[Identity]:
        status, body = response
        self.fetched_bytes += len(body)
        if status != 200:
            raise IdentityFetchError(f"{target.url} answered HTTP {status}", reason="http-status", url=target.url)
        if len(body) > self._max_size:
            raise IdentityFetchError(
                f"{target.url} answered {len(body)} bytes, over the {self._max_size} byte limit",
                reason="too-large",
                url=target.url,
            )
        d = self._run_blocking(Identity.from_xml, body)
        d.addCallbacks(self._check_fetched, _bad_document, callbackArgs=(target,), errbackArgs=(target,))
        return d

    def _check_fetched(self, identity: Identity, target: IdUrl) -> Identity | defer.Deferred[Identity]:
        if target not in identity.sources:
            raise IdentityFetchError(
                f"the identity served at {target.url} does not list that IDURL among its sources",
                reason="wrong-sources",
                url=target.url,
            )
        verdict, reason = self._accept(identity, verified=True, fetched=self._clock.seconds())
        if verdict == "other-key":
            raise IdentityFetchError(f"refused {target.url}: {reason}", reason="key-changed", url=target.url)
        if verdict in ("new", "newer"):
            return self._write(identity).addCallback(lambda _: identity)
        return self._by_key[identity.public_key].identity

    def _fetch_done(self, result: Identity | Failure, target: IdUrl) -> Identity | Failure:
        if isinstance(result, Failure):
            self.fetch_failures += 1
        else:
            self.fetched += 1
        for waiter in self._pending.pop(target, []):
            if isinstance(result, Failure):
                waiter.errback(result)
            else:
                waiter.callback(result)
        return result


def _timeout_failure(target: IdUrl, timeout: float) -> Failure:
    message = f"{target.url} did not answer within {timeout:g} seconds"
    return Failure(IdentityFetchError(message, reason="timeout", url=target.url))


def _as_fetch_error(failure: Failure, target: IdUrl) -> Failure:
    if failure.check(IdentityFetchError):
        return failure
    message = f"could not fetch {target.url}: {failure.getErrorMessage() or failure.type.__name__}"
    return Failure(IdentityFetchError(message, reason="network", url=target.url))


def _bad_document(failure: Failure, target: IdUrl) -> Failure:
    if failure.check(IdentitySignatureError):
        reason = "bad-signature"
    elif failure.check(IdentityError):
        reason = "bad-document"
    else:
        return failure
    message = f"refused the identity at {target.url}: {failure.value}"
    return Failure(IdentityFetchError(message, reason=reason, url=target.url))
