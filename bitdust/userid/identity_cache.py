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

**Which document replaces which.** An identity replaces the one we hold only if it is signed by the
SAME key and carries a HIGHER revision. A different key for a bound IDURL is refused (somebody took
over a name, or a server lies); an older or equal revision is refused (a replay or a stale server).

Rotation: when a user moves to other identity servers, their new document lists new sources but
is signed by the same key. The cache keeps one current identity per key, so accepting the newer
document retires the old one and maps its bound IDURLs to the new primary (:meth:`resolve`); peers
that still know the user by an old IDURL find the current identity.

Threads: memory is only touched on the reactor thread. ``put`` and ``forget_memory`` are memory
only; ``persist`` and ``erase`` are the blocking disk halves; ``store``, ``forget`` and ``fetch`` do
both, running the disk part (and XML parsing with signature checks) through the injected
``run_blocking`` (``Engine.run_blocking`` in production; the default runs inline, for tests).
Disk writes are chained in order so an older document can never overwrite a newer one.
``load`` is blocking and meant to run once at startup, before the cache is shared.

Fetches: every HTTP request takes a slot of :class:`~bitdust.userid.fetch_limits.FetchLimits`
first, so peers naming creators on servers that never answer hold a bounded number of sockets.

Staleness: a held identity is never re-read on its own. :meth:`refresh` (and :meth:`refresh_if_older`)
re-fetch it from all its sources when the network gives a reason to think it is old; the pacing
and bounds that keep peers from driving those fetches live in :mod:`bitdust.userid.identity_refresh`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.errors import InvalidInput
from bitdust.main.fileutil import atomic_write
from bitdust.userid.errors import IdentityError, IdentityFetchError, IdentitySignatureError
from bitdust.userid.fetch_limits import FetchLimits, Slot
from bitdust.userid.http_fetch import HttpGet
from bitdust.userid.identity import MAX_IDENTITY_SIZE, Identity
from bitdust.userid.identity_refresh import IdentityRefresher
from bitdust.userid.idurl import IdUrl, parse_user_ref

RunBlocking = Callable[..., "defer.Deferred[Any]"]
MAX_ALIAS_HOPS = 16
MAX_BINDINGS_FILE = 8 * 1024
BINDINGS_SUFFIX = ".bound.json"

#: verdicts after which the document is (or already was) the current one for its key
ACCEPTED = ("new", "newer", "same")


def _run_inline(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args, **kwargs)


@attrs.define
class _Entry:
    identity: Identity
    fetched: float | None
    #: the sources whose own server served this key (or that this node published itself)
    bound: set[IdUrl] = attrs.field(factory=set)


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
        self._http_get = http_get
        self._clock = clock
        self._log = log if log is not None else Logger(namespace="bitdust.userid.identity_cache")
        self._max_size = max_size
        self._timeout = timeout
        self._run_blocking = run_blocking if run_blocking is not None else _run_inline
        self.limits = limits if limits is not None else FetchLimits()
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
        """The current identity bound to ``idurl`` (an old IDURL of a rotated user works too).

        A source a document only claims is not an answer: see the module docstring.
        """
        entry = self._by_source.get(self.resolve(idurl))
        return entry.identity if entry is not None else None

    def bound_sources(self, idurl: IdUrl | str) -> tuple[IdUrl, ...]:
        """The sources of the identity known by ``idurl`` that are bound to its key, in document order."""
        entry = self._by_source.get(self.resolve(idurl))
        if entry is None:
            return ()
        return tuple(source for source in entry.identity.sources if source in entry.bound)

    def public_key(self, idurl: IdUrl | str) -> defer.Deferred[Any]:
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
            raise InvalidInput(f"cannot map {old.url} to {new.url}: that would be a loop")
        self._aliases[old] = new

    # -- accepting ------------------------------------------------------------------------------

    def _judge(self, identity: Identity, bind: frozenset[IdUrl]) -> tuple[str, str]:
        """``(verdict, reason)``; verdicts: new, newer, same, stale, other-key, unconfirmed, bad-signature."""
        for source in bind:
            holder = self._by_source.get(source)
            if holder is not None and holder.identity.public_key != identity.public_key:
                return "other-key", f"{source.url} is held by another public key"
        holder = self._by_key.get(identity.public_key)
        if holder is None or identity.revision > holder.identity.revision:
            bound = self._bound_after(holder, identity, bind)
            if identity.idurl not in bound:
                return "unconfirmed", (
                    f"{identity.global_id}: its primary source {identity.idurl.url} has not served this key"
                )
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

    @staticmethod
    def _bound_after(holder: _Entry | None, identity: Identity, bind: frozenset[IdUrl]) -> set[IdUrl]:
        """What ``identity`` would have bound: what its key had bound among its sources, plus ``bind``."""
        sources = set(identity.sources)
        kept = holder.bound & sources if holder is not None else set()
        return kept | (bind & sources)

    def _install(self, identity: Identity, fetched: float | None, bound: set[IdUrl]) -> None:
        entry = _Entry(identity, fetched, bound)
        old = self._by_key.get(identity.public_key)
        if old is not None:
            for source in old.bound:
                if self._by_source.get(source) is old:
                    del self._by_source[source]
                if source not in bound:
                    self._aliases[source] = identity.idurl
        for source in bound:
            self._aliases.pop(source, None)
            self._by_source[source] = entry
        self._by_key[identity.public_key] = entry

    def _add_bindings(self, entry: _Entry, bind: frozenset[IdUrl]) -> bool:
        """Bind ``bind`` (sources of the held document) to its key; True when something new was bound."""
        added = False
        for source in bind:
            if source in entry.identity.sources and source not in entry.bound:
                entry.bound.add(source)
                self._aliases.pop(source, None)
                self._by_source[source] = entry
                added = True
        return added

    def _accept(
        self, identity: Identity, *, verified: bool, fetched: float | None, bind: frozenset[IdUrl]
    ) -> tuple[str, str, bool]:
        """``(verdict, reason, changed)``: ``changed`` when what is on disk must be rewritten."""
        if not verified and not identity.verify():
            verdict, reason = "bad-signature", f"{identity.global_id}: signature does not verify"
        else:
            verdict, reason = self._judge(identity, bind)
        changed = False
        if verdict in ("new", "newer"):
            holder = self._by_key.get(identity.public_key)
            self._install(identity, fetched, self._bound_after(holder, identity, bind))
            self._log.debug("identity accepted: {reason}", reason=reason)
            changed = True
        elif verdict in ("same", "stale"):
            # An older or equal revision of the same key still vouches for the source it came from.
            held = self._by_key[identity.public_key]
            changed = self._add_bindings(held, bind)
            if verdict == "same":
                held.fetched = fetched
            else:
                self._log.warn("identity refused ({verdict}): {reason}", verdict=verdict, reason=reason)
        else:
            self._log.warn("identity refused ({verdict}): {reason}", verdict=verdict, reason=reason)
        return verdict, reason, changed

    def put(self, identity: Identity) -> bool:
        """Accept ``identity`` into memory, binding EVERY source; True when it is (or already was) current.

        Only for a document every source has served or accepted (one this node published) and for
        tests; a document from a peer goes through :meth:`offer`, one from a server through :meth:`fetch`.
        """
        verdict, _reason, _changed = self._accept(
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
        verdict, reason, changed = self._accept(identity, verified=verified, fetched=self._clock.seconds(), bind=bind)
        if changed:
            return self._write(self._by_key[identity.public_key].identity).addCallback(lambda _: (verdict, reason))
        return defer.succeed((verdict, reason))

    # -- disk -----------------------------------------------------------------------------------

    def path_for(self, idurl: IdUrl) -> Path:
        """``<global_id>.xml``: host names cannot hold ``_`` or ``..``, so this is unique and safe."""
        return self.folder / f"{idurl.global_id}.xml"

    def bindings_path_for(self, idurl: IdUrl) -> Path:
        """``<global_id>.bound.json``: which sources of the document beside it were bound, and to which key."""
        return self.folder / f"{idurl.global_id}{BINDINGS_SUFFIX}"

    def persist(self, identity: Identity, bound: Collection[IdUrl] | None = None) -> None:
        """Blocking: write ``identity`` and the sources bound to its key, each file atomically.

        ``bound`` None: every source (what :meth:`put` binds). The document goes first: a crash
        between the two leaves bindings of an older revision of the same key, still true.
        """
        bound = identity.sources if bound is None else bound
        atomic_write(self.path_for(identity.idurl), identity.to_xml())
        record = {"publickey": identity.public_key, "bound": sorted(source.url for source in bound)}
        atomic_write(self.bindings_path_for(identity.idurl), json.dumps(record, sort_keys=True) + "\n")

    def erase(self, idurls: list[IdUrl]) -> None:
        """Blocking: remove the files kept for ``idurls``."""
        for idurl in idurls:
            for path in (self.path_for(idurl), self.bindings_path_for(idurl)):
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass

    def _write(self, identity: Identity) -> defer.Deferred[None]:
        def write() -> defer.Deferred[None] | None:
            current = self._by_key.get(identity.public_key)
            if current is None or current.identity.revision > identity.revision:
                return None  # forgotten or superseded while waiting: never write an older document
            return self._run_blocking(self.persist, identity, frozenset(current.bound))

        d = self._writes.run(write)
        d.addErrback(self._write_failed, identity)
        return d

    def _write_failed(self, failure: Failure, identity: Identity) -> None:
        self._log.failure("could not write identity {global_id}", failure, global_id=identity.global_id)

    def _read_bindings(self, identity: Identity) -> frozenset[IdUrl]:
        """Blocking: the sources stored as bound to ``identity``'s key; none when missing or for another key."""
        path = self.bindings_path_for(identity.idurl)
        try:
            raw = path.read_bytes()
            if len(raw) > MAX_BINDINGS_FILE:
                raise ValueError("too large")
            record = json.loads(raw)
            if not isinstance(record, dict) or record.get("publickey") != identity.public_key:
                raise ValueError("it is for another key")
            urls = record.get("bound")
            if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
                raise ValueError("no list of sources")
        except FileNotFoundError:
            urls = []
        except (OSError, ValueError) as exc:
            self._log.warn("ignoring identity bindings {path}: {error}", path=str(path), error=str(exc))
            urls = []
        return frozenset(source for source in identity.sources if source.url in urls)

    def load(self) -> int:
        """Blocking: read every stored identity with its bindings; corrupt, misnamed or unbound files are skipped."""
        found: list[tuple[Identity, float, frozenset[IdUrl]]] = []
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
            found.append((identity, os.stat(path).st_mtime, self._read_bindings(identity)))
        # Oldest revisions first, so a rotated user's newer document retires the older one.
        for identity, mtime, bound in sorted(found, key=lambda item: item[0].revision):
            verdict, _reason, _changed = self._accept(identity, verified=True, fetched=mtime, bind=bound)
            if verdict == "unconfirmed":
                self._log.info(
                    "not loading {gid}: no record that its own server vouches for it; it is fetched when needed",
                    gid=identity.global_id,
                )
        return len(self._by_key)

    def forget_memory(self, idurl: IdUrl | str) -> list[IdUrl]:
        """Drop the identity known by ``idurl`` from memory; returns the IDURLs whose files to erase."""
        entry = self._by_source.get(self.resolve(idurl))
        if entry is None:
            return []
        identity = entry.identity
        del self._by_key[identity.public_key]
        for source in entry.bound:
            if self._by_source.get(source) is entry:
                del self._by_source[source]
        gone = list(identity.sources)
        for old in [old for old in self._aliases if self.resolve(old) in entry.bound]:
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
        d = self._get_document(target)
        d.addCallback(self._check_fetched, target)
        d.addBoth(self._fetch_done, target)
        return d

    def _get_document(self, target: IdUrl) -> defer.Deferred[Identity]:
        """GET, size and status checks, parse (signature included) in a worker; nothing is kept.

        The deadline covers the wait for a fetch slot too.
        """
        slots: list[Slot] = []

        def start(slot: Slot) -> defer.Deferred[Any]:
            slots.append(slot)
            return defer.maybeDeferred(self._http_get, target.url, self._timeout)

        def release(result: Any) -> Any:
            for slot in slots:
                slot.release()
            return result

        d: defer.Deferred[Any] = self.limits.acquire(target.server)
        d.addCallback(start)
        d.addBoth(release)
        d.addTimeout(self._timeout, self._clock, onTimeoutCancel=lambda _r, t: _timeout_failure(target, t))
        d.addErrback(_as_fetch_error, target)
        d.addCallback(self._got_response, target)
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
        d.addCallbacks(_lists_target, _bad_document, callbackArgs=(target,), errbackArgs=(target,))
        return d

    def _check_fetched(self, identity: Identity, target: IdUrl) -> Identity | defer.Deferred[Identity]:
        verdict, reason, changed = self._accept(
            identity, verified=True, fetched=self._clock.seconds(), bind=frozenset({target})
        )
        if verdict == "other-key":
            raise IdentityFetchError(f"refused {target.url}: {reason}", reason="key-changed", url=target.url)
        if verdict == "unconfirmed":
            return self._confirm_primary(identity, target)
        held = self._by_key[identity.public_key]
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
            verdict, reason, _changed = self._accept(identity, verified=True, fetched=now, bind=bound)
            if verdict not in ACCEPTED and verdict != "stale":
                raise IdentityFetchError(f"refused {target.url}: {reason}", reason="unconfirmed", url=target.url)
            # What the primary serves may be newer still; it vouches for itself.
            self._accept(document, verified=True, fetched=now, bind=frozenset({primary}))
            held = self._by_key[identity.public_key].identity
            return self._write(held).addCallback(lambda _: held)

        def failed(failure: Failure) -> Failure:
            failure.trap(IdentityFetchError)
            message = f"the identity at {target.url} names {primary.url} as its primary: {failure.getErrorMessage()}"
            return Failure(IdentityFetchError(message, reason="unconfirmed", url=target.url))

        return self._get_document(primary).addErrback(failed).addCallback(compare)

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


def _lists_target(identity: Identity, target: IdUrl) -> Identity:
    if target not in identity.sources:
        raise IdentityFetchError(
            f"the identity served at {target.url} does not list that IDURL among its sources",
            reason="wrong-sources",
            url=target.url,
        )
    return identity


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
