"""What the identity cache believes, in memory: one current identity per key, its bound sources, aliases.

Two rules decide it (the cache's module docstring, :mod:`bitdust.userid.identity_cache`, says why):

**Who may bind an IDURL to a key.** Only the document fetched from that IDURL itself. The sources
a document lists but that did not serve it are claims: held with the document, never an answer to
a lookup, bound one by one once that source itself served the same key. A document is usable only
when its primary source is bound.

**Which document replaces which.** An identity replaces the one held only if it is signed by the
SAME key and carries a HIGHER revision. A different key for a bound IDURL is refused (somebody took
over a name, or a server lies); an older or equal revision is refused (a replay or a stale server).

**Rotation.** When a user moves to other identity servers, their new document lists new sources
but is signed by the same key. The book keeps one current identity per key, so accepting the newer
document retires the old one and maps its bound IDURLs to the new primary (:meth:`IdentityBook.resolve`);
peers that still know the user by an old IDURL find the current identity.

Only the reactor thread touches this book; it does no I/O and never blocks.
"""

from __future__ import annotations

from typing import TypedDict

import attrs
from twisted.logger import Logger

from bitdust.userid.identity import Identity
from bitdust.userid.idurl import IdUrl, parse_user_ref

MAX_ALIAS_HOPS = 16

#: verdicts after which the document is (or already was) the current one for its key
ACCEPTED = ("new", "newer", "same")


@attrs.define
class Entry:
    """The current identity of one key: when it was fetched and which of its sources are bound."""

    identity: Identity
    fetched: float | None
    #: the sources whose own server served this key (or that this node published itself)
    bound: set[IdUrl] = attrs.field(factory=set)


class CachedIdentity(TypedDict):
    """One row of :meth:`IdentityCache.list` (``identity_cache_list``)."""

    idurl: str
    global_id: str
    revision: int
    contacts: list[str]
    fetched: float | None


class IdentityBook:
    """The cache's memory: entries by bound source and by public key, and the aliases of rotated IDURLs."""

    def __init__(self, log: Logger) -> None:
        self._log = log
        self.by_source: dict[IdUrl, Entry] = {}
        self.by_key: dict[str, Entry] = {}
        self.aliases: dict[IdUrl, IdUrl] = {}

    def resolve(self, idurl: IdUrl | str) -> IdUrl:
        """The current IDURL for ``idurl``: itself, or where its owner rotated to."""
        current = parse_user_ref(idurl)
        for _ in range(MAX_ALIAS_HOPS):
            nxt = self.aliases.get(current)
            if nxt is None:
                break
            current = nxt
        return current

    def entry(self, idurl: IdUrl | str) -> Entry | None:
        """The entry bound to ``idurl`` (an old IDURL of a rotated user works too)."""
        return self.by_source.get(self.resolve(idurl))

    def rows(self) -> list[CachedIdentity]:
        """One row per current identity, for ``identity_cache_list``."""
        rows: list[CachedIdentity] = [
            {
                "idurl": entry.identity.idurl.url,
                "global_id": entry.identity.global_id,
                "revision": entry.identity.revision,
                "contacts": list(entry.identity.contacts),
                "fetched": entry.fetched,
            }
            for entry in self.by_key.values()
        ]
        return sorted(rows, key=lambda row: row["global_id"])

    def judge(self, identity: Identity, bind: frozenset[IdUrl]) -> tuple[str, str]:
        """``(verdict, reason)``; verdicts: new, newer, same, stale, other-key, unconfirmed, bad-signature."""
        for source in bind:
            holder = self.by_source.get(source)
            if holder is not None and holder.identity.public_key != identity.public_key:
                return "other-key", f"{source.url} is held by another public key"
        holder = self.by_key.get(identity.public_key)
        if holder is None or identity.revision > holder.identity.revision:
            bound = self.bound_after(holder, identity, bind)
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
    def bound_after(holder: Entry | None, identity: Identity, bind: frozenset[IdUrl]) -> set[IdUrl]:
        """What ``identity`` would have bound: what its key had bound among its sources, plus ``bind``."""
        sources = set(identity.sources)
        kept = holder.bound & sources if holder is not None else set()
        return kept | (bind & sources)

    def install(self, identity: Identity, fetched: float | None, bound: set[IdUrl]) -> None:
        entry = Entry(identity, fetched, bound)
        old = self.by_key.get(identity.public_key)
        if old is not None:
            for source in old.bound:
                if self.by_source.get(source) is old:
                    del self.by_source[source]
                if source not in bound:
                    self.aliases[source] = identity.idurl
        for source in bound:
            self.aliases.pop(source, None)
            self.by_source[source] = entry
        self.by_key[identity.public_key] = entry

    def add_bindings(self, entry: Entry, bind: frozenset[IdUrl]) -> bool:
        """Bind ``bind`` (sources of the held document) to its key; True when something new was bound."""
        added = False
        for source in bind:
            if source in entry.identity.sources and source not in entry.bound:
                entry.bound.add(source)
                self.aliases.pop(source, None)
                self.by_source[source] = entry
                added = True
        return added

    def accept(
        self, identity: Identity, *, verified: bool, fetched: float | None, bind: frozenset[IdUrl]
    ) -> tuple[str, str, bool]:
        """``(verdict, reason, changed)``: ``changed`` when what is on disk must be rewritten."""
        if not verified and not identity.verify():
            verdict, reason = "bad-signature", f"{identity.global_id}: signature does not verify"
        else:
            verdict, reason = self.judge(identity, bind)
        changed = False
        if verdict in ("new", "newer"):
            holder = self.by_key.get(identity.public_key)
            self.install(identity, fetched, self.bound_after(holder, identity, bind))
            self._log.debug("identity accepted: {reason}", reason=reason)
            changed = True
        elif verdict in ("same", "stale"):
            # An older or equal revision of the same key still vouches for the source it came from.
            held = self.by_key[identity.public_key]
            changed = self.add_bindings(held, bind)
            if verdict == "same":
                held.fetched = fetched
            else:
                self._log.warn("identity refused ({verdict}): {reason}", verdict=verdict, reason=reason)
        else:
            self._log.warn("identity refused ({verdict}): {reason}", verdict=verdict, reason=reason)
        return verdict, reason, changed

    def forget(self, idurl: IdUrl | str) -> list[IdUrl]:
        """Drop the identity known by ``idurl`` from memory; returns the IDURLs whose files to erase."""
        entry = self.by_source.get(self.resolve(idurl))
        if entry is None:
            return []
        identity = entry.identity
        del self.by_key[identity.public_key]
        for source in entry.bound:
            if self.by_source.get(source) is entry:
                del self.by_source[source]
        gone = list(identity.sources)
        for old in [old for old in self.aliases if self.resolve(old) in entry.bound]:
            del self.aliases[old]
            gone.append(old)
        return gone
