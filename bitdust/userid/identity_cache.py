"""Identities of other users, in memory and on disk, and fetching them from identity servers.

Every packet a node acts on is checked against its sender's identity, so this cache decides whom
we believe. Two rules:

**Who may bind an IDURL to a key.** Only the document fetched from that IDURL itself: the server
of an IDURL vouches for its own names, never for another server's. A document lists several
sources, but the ones we did not fetch it from are *claims*: the cache holds them with the
document, never answers a lookup by them, and *binds* one only once that source itself served
the same key (any revision of it; :meth:`fetch`, or :meth:`refresh`, which asks every source).
A document is usable only when its primary source (the name peers know its owner by) is bound;
a fetch from another source of it asks the primary first. Documents handed over by peers
(:meth:`offer`, an ``Identity`` packet) bind nothing new. What was bound from where is stored next
to each document (``<global_id>.bound.json``), so a restart re-binds exactly that; a document
whose bindings are missing or name another key is not loaded, and is fetched again when needed.
:meth:`put` and :meth:`store` bind every source: they are for documents this node published
itself (every source accepted them) and for tests.

**Which document replaces which**, and how a rotated user's old IDURLs keep finding the current
identity: see :mod:`bitdust.userid.identity_book`, which holds what the cache believes.

Threads: memory is only touched on the reactor thread. ``put`` and ``forget_memory`` are memory
only; ``persist`` and ``erase`` are the blocking disk halves; ``store``, ``forget`` and ``fetch`` do
both, running the disk part (and XML parsing with signature checks) through the injected
``run_blocking`` (``Engine.run_blocking`` in production; the default runs inline, for tests).
Disk writes are chained in order so an older document can never overwrite a newer one.
``load`` is blocking and meant to run once at startup, before the cache is shared.

The files are :mod:`bitdust.userid.identity_files`; the GET of one document with its checks is
:mod:`bitdust.userid.identity_fetch` (which bounds the sockets peers can make us hold). This class
wires them to the book: when to fetch, bind, write and erase.

Staleness: a held identity is never re-read on its own. :meth:`refresh` (and :meth:`refresh_if_older`)
re-fetch it from all its sources when the network gives a reason to think it is old; the pacing
and bounds that keep peers from driving those fetches live in :mod:`bitdust.userid.identity_refresh`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.errors import InvalidInput
from bitdust.userid import identity_files
from bitdust.userid.errors import IdentityFetchError
from bitdust.userid.fetch_limits import FetchLimits
from bitdust.userid.http_fetch import HttpGet
from bitdust.userid.identity import MAX_IDENTITY_SIZE, Identity
from bitdust.userid.identity_book import ACCEPTED, MAX_ALIAS_HOPS, CachedIdentity, IdentityBook
from bitdust.userid.identity_fetch import DocumentFetcher, RunBlocking
from bitdust.userid.identity_files import BINDINGS_SUFFIX, MAX_BINDINGS_FILE
from bitdust.userid.identity_refresh import IdentityRefresher
from bitdust.userid.idurl import IdUrl, parse_user_ref

__all__ = [
    "CachedIdentity",
    "ACCEPTED",
    "BINDINGS_SUFFIX",
    "MAX_ALIAS_HOPS",
    "MAX_BINDINGS_FILE",
    "IdentityCache",
    "RunBlocking",
]


def _run_inline(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args, **kwargs)


class IdentityCache:
    """Known identities by IDURL; see the module docstring for the binding, acceptance and threading rules."""

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
        limits: FetchLimits | None = None,
    ) -> None:
        self.folder = Path(folder)
        self._clock = clock
        self._log = log if log is not None else Logger(namespace="bitdust.userid.identity_cache")
        self._run_blocking = run_blocking if run_blocking is not None else _run_inline
        self.limits = limits if limits is not None else FetchLimits()
        self._documents = DocumentFetcher(
            http_get=http_get,
            clock=clock,
            limits=self.limits,
            timeout=timeout,
            max_size=max_size,
            run_blocking=self._run_blocking,
        )
        self._book = IdentityBook(self._log)
        self._pending: dict[IdUrl, list[defer.Deferred[Identity]]] = {}
        self._writes = defer.DeferredLock()
        #: identity documents fetched over HTTP (one per request, however many waited on it), for packets_stats
        self.fetched = 0
        self.fetch_failures = 0
        self.refresher = IdentityRefresher(self, clock=clock, log=self._log)

    @property
    def fetched_bytes(self) -> int:
        """Bytes of every identity document answer received, refused ones included (for packets_stats)."""
        return self._documents.fetched_bytes

    # -- lookups --------------------------------------------------------------------------------

    def resolve(self, idurl: IdUrl | str) -> IdUrl:
        """The current IDURL for ``idurl``: itself, or where its owner rotated to."""
        return self._book.resolve(idurl)

    def get(self, idurl: IdUrl | str) -> Identity | None:
        """The current identity bound to ``idurl`` (an old IDURL of a rotated user works too).

        A source a document only claims is not an answer: see the module docstring.
        """
        entry = self._book.entry(idurl)
        return entry.identity if entry is not None else None

    def bound_sources(self, idurl: IdUrl | str) -> tuple[IdUrl, ...]:
        """The sources of the identity known by ``idurl`` that are bound to its key, in document order."""
        entry = self._book.entry(idurl)
        if entry is None:
            return ()
        return tuple(source for source in entry.identity.sources if source in entry.bound)

    def public_key(self, idurl: IdUrl | str) -> defer.Deferred[RsaKey]:
        """The public RsaKey bound to ``idurl``, fetched from its own server when not held yet.

        What the DHT checks record signatures with: a record "from" a user is checked only against
        the key that user's own identity server vouches for.
        """
        try:
            held = self.get(idurl)
        except InvalidInput as exc:
            return defer.fail(exc)
        if held is not None:
            return defer.succeed(held.public_rsa())
        return self.fetch(idurl).addCallback(lambda identity: identity.public_rsa())

    def __contains__(self, idurl: object) -> bool:
        if not isinstance(idurl, IdUrl | str):
            return False
        try:
            return self.get(idurl) is not None
        except InvalidInput:
            return False

    def __len__(self) -> int:
        return len(self._book.by_key)

    def list(self) -> builtins.list[CachedIdentity]:
        """One row per current identity, for ``identity_cache_list``."""
        return self._book.rows()

    def remember_rotation(self, old_idurl: IdUrl | str, new_idurl: IdUrl | str) -> None:
        """Map ``old_idurl`` to ``new_idurl`` (what the rotation code learned some other way)."""
        old, new = parse_user_ref(old_idurl), parse_user_ref(new_idurl)
        if old == new or self.resolve(new) == old:
            raise InvalidInput(f"cannot map {old.url} to {new.url}: that would be a loop")
        self._book.aliases[old] = new

    # -- accepting ------------------------------------------------------------------------------

    def put(self, identity: Identity) -> bool:
        """Accept ``identity`` into memory, binding EVERY source; True when it is (or already was) current.

        Only for a document every source has served or accepted (one this node published) and for
        tests; a document from a peer goes through :meth:`offer`, one from a server through :meth:`fetch`.
        """
        verdict, _reason, _changed = self._book.accept(
            identity, verified=False, fetched=self._clock.seconds(), bind=frozenset(identity.sources)
        )
        return verdict in ACCEPTED

    def store(self, identity: Identity, *, verified: bool = False) -> defer.Deferred[bool]:
        """:meth:`put`, then write the file if the identity was new or newer.

        ``verified``: the caller already checked the signature (in a worker thread, or it signed
        the document itself), so the reactor does not do the RSA work again.
        """
        return self._keep(identity, verified=verified, bind=frozenset(identity.sources)).addCallback(
            lambda result: result[0] in ACCEPTED
        )

    def offer(self, identity: Identity, *, verified: bool = False) -> defer.Deferred[tuple[str, str]]:
        """A document a peer handed us (an ``Identity`` packet): fires with ``(verdict, reason)``.

        It binds no source: it may update the identity its key already has bound (a newer
        revision), and when its primary source is not bound yet, that source is fetched first and
        must serve the same key. A verdict in :data:`ACCEPTED` means it is (or was) current.
        """
        d = self._keep(identity, verified=verified, bind=frozenset())

        def judged(result: tuple[str, str]) -> defer.Deferred[tuple[str, str]] | tuple[str, str]:
            if result[0] != "unconfirmed":
                return result

            def confirmed(_held: Identity) -> defer.Deferred[tuple[str, str]]:
                return self._keep(identity, verified=True, bind=frozenset())

            def not_confirmed(failure: Failure) -> tuple[str, str]:
                failure.trap(IdentityFetchError, InvalidInput)
                return "unconfirmed", f"{result[1]}: {failure.getErrorMessage()}"

            return self.fetch(identity.idurl).addCallbacks(confirmed, not_confirmed)

        return d.addCallback(judged)

    def _keep(self, identity: Identity, *, verified: bool, bind: frozenset[IdUrl]) -> defer.Deferred[tuple[str, str]]:
        verdict, reason, changed = self._book.accept(
            identity, verified=verified, fetched=self._clock.seconds(), bind=bind
        )
        if changed:
            return self._write(self._book.by_key[identity.public_key].identity).addCallback(lambda _: (verdict, reason))
        return defer.succeed((verdict, reason))

    # -- disk -----------------------------------------------------------------------------------

    def path_for(self, idurl: IdUrl) -> Path:
        """``<global_id>.xml``: host names cannot hold ``_`` or ``..``, so this is unique and safe."""
        return identity_files.path_for(self.folder, idurl)

    def bindings_path_for(self, idurl: IdUrl) -> Path:
        """``<global_id>.bound.json``: which sources of the document beside it were bound, and to which key."""
        return identity_files.bindings_path_for(self.folder, idurl)

    def persist(self, identity: Identity, bound: Collection[IdUrl] | None = None) -> None:
        """Blocking: write ``identity`` and the sources bound to its key, each file atomically.

        ``bound`` None: every source (what :meth:`put` binds).
        """
        identity_files.persist(self.folder, identity, identity.sources if bound is None else bound)

    def erase(self, idurls: builtins.list[IdUrl]) -> None:
        """Blocking: remove the files kept for ``idurls``."""
        identity_files.erase(self.folder, idurls)

    def _write(self, identity: Identity) -> defer.Deferred[None]:
        def write() -> defer.Deferred[None]:
            current = self._book.by_key.get(identity.public_key)
            if current is None or current.identity.revision > identity.revision:
                return defer.succeed(None)  # forgotten or superseded while waiting: never write an older document
            return self._run_blocking(self.persist, identity, frozenset(current.bound))

        d: defer.Deferred[None] = self._writes.run(write)
        d.addErrback(self._write_failed, identity)
        return d

    def _write_failed(self, failure: Failure, identity: Identity) -> None:
        self._log.failure("could not write identity {global_id}", failure, global_id=identity.global_id)

    def load(self) -> int:
        """Blocking: read every stored identity with its bindings; corrupt, misnamed or unbound files are skipped."""
        if not self.folder.is_dir():
            return 0
        found = identity_files.read_folder(self.folder, self._log)
        # Oldest revisions first, so a rotated user's newer document retires the older one.
        for identity, mtime, bound in sorted(found, key=lambda item: item[0].revision):
            verdict, _reason, _changed = self._book.accept(identity, verified=True, fetched=mtime, bind=bound)
            if verdict == "unconfirmed":
                self._log.info(
                    "not loading {gid}: no record that its own server vouches for it; it is fetched when needed",
                    gid=identity.global_id,
                )
        return len(self._book.by_key)

    def forget_memory(self, idurl: IdUrl | str) -> builtins.list[IdUrl]:
        """Drop the identity known by ``idurl`` from memory; returns the IDURLs whose files to erase."""
        return self._book.forget(idurl)

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
        """GET the identity at ``idurl``, check it, bind ``idurl`` to its key, keep it; IdentityFetchError otherwise.

        Concurrent fetches of one IDURL share one request. A document older than the one we hold
        yields the held (newer) one; a document under another key than the one bound to ``idurl``
        is an error (``key-changed``); a document whose primary source is another IDURL is kept only
        once that primary serves the same key (``unconfirmed`` otherwise).
        """
        try:
            target = parse_user_ref(idurl)
        except InvalidInput as exc:
            return defer.fail(exc)
        if target in self._pending:
            waiter: defer.Deferred[Identity] = defer.Deferred()
            self._pending[target].append(waiter)
            return waiter
        self._pending[target] = []
        d = self._documents.get(target)
        d.addCallback(self._check_fetched, target)
        d.addBoth(self._fetch_done, target)
        return d

    def _check_fetched(self, identity: Identity, target: IdUrl) -> Identity | defer.Deferred[Identity]:
        verdict, reason, changed = self._book.accept(
            identity, verified=True, fetched=self._clock.seconds(), bind=frozenset({target})
        )
        if verdict == "other-key":
            raise IdentityFetchError(f"refused {target.url}: {reason}", reason="key-changed", url=target.url)
        if verdict == "unconfirmed":
            return self._confirm_primary(identity, target)
        held = self._book.by_key[identity.public_key]
        if changed:
            return self._write(held.identity).addCallback(lambda _: held.identity)
        return held.identity

    def _confirm_primary(self, identity: Identity, target: IdUrl) -> defer.Deferred[Identity]:
        """``target`` served ``identity`` but is not its primary: the primary must serve the same key.

        One direct request, never a nested :meth:`fetch` (two servers naming each other as primary
        must not wait on each other).
        """
        primary = identity.idurl

        def compare(document: Identity) -> Identity | defer.Deferred[Identity]:
            if document.public_key != identity.public_key:
                raise IdentityFetchError(
                    f"the identity at {target.url} names {primary.url} as its primary, which serves another key",
                    reason="unconfirmed",
                    url=target.url,
                )
            now = self._clock.seconds()
            bound = frozenset({target, primary})
            verdict, reason, _changed = self._book.accept(identity, verified=True, fetched=now, bind=bound)
            if verdict not in ACCEPTED and verdict != "stale":
                raise IdentityFetchError(f"refused {target.url}: {reason}", reason="unconfirmed", url=target.url)
            # What the primary serves may be newer still; it vouches for itself.
            self._book.accept(document, verified=True, fetched=now, bind=frozenset({primary}))
            held = self._book.by_key[identity.public_key].identity
            return self._write(held).addCallback(lambda _: held)

        def failed(failure: Failure) -> Failure:
            failure.trap(IdentityFetchError)
            message = f"the identity at {target.url} names {primary.url} as its primary: {failure.getErrorMessage()}"
            return Failure(IdentityFetchError(message, reason="unconfirmed", url=target.url))

        return self._documents.get(primary).addErrback(failed).addCallback(compare)

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
