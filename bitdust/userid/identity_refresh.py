"""Re-fetching identities we already hold, when they may be out of date, without letting peers drive it.

A cached identity goes stale when its owner publishes a new revision (new contacts after its
transports started, another port after a restart) and nobody tells us. The cache itself never
looks again, so the gateway asks here when it has a reason to believe the held document is old:
none of its contacts is usable, a delivery to it failed, or a verified packet from its owner
claims a higher revision than the one we hold.

Those reasons come from the network, and a peer may lie (claim a revision its servers do not
serve, or make us fail to reach it on purpose). So a refresh is paced per identity: the first
one runs at once, each one that found nothing newer doubles the wait before the next (from
``min_interval`` up to ``max_interval``), and finding a newer revision resets the pace. At most
``max_running`` refreshes run at once and at most ``max_tracked`` identities are paced; beyond
either bound a refresh is skipped (the held identity is the answer). A refresh fetches every
source of the held identity, since any one server may be the one that lags; the cache's own rules
decide what is kept (same key, higher revision) and what is bound: a source the document only
claims is bound once it serves the same key itself, so a refresh is also how claims get confirmed.

A refresh never fails: it fires with the identity held afterwards (None when there is none), so
a caller's next step is the same whether or not the servers answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.errors import InvalidInput
from bitdust.userid.idurl import IdUrl, parse_user_ref

if TYPE_CHECKING:
    from bitdust.userid.identity import Identity
    from bitdust.userid.identity_cache import IdentityCache

MIN_INTERVAL = 1.0
MAX_INTERVAL = 60.0
MAX_RUNNING = 16
MAX_TRACKED = 10_000


@attrs.define
class _Pace:
    """When the next refresh of one identity may run, and the wait after the one after."""

    next_allowed: float
    interval: float


@attrs.define
class RefreshStats:
    """Counters for ``network_status``/tests: what was asked, what ran, what was held back."""

    asked: int = 0
    started: int = 0
    found_newer: int = 0
    rate_limited: int = 0
    over_capacity: int = 0

    def to_json(self) -> dict[str, int]:
        return attrs.asdict(self)


class IdentityRefresher:
    """Paced, bounded re-fetching of held identities from all their sources (module docstring)."""

    def __init__(
        self,
        cache: IdentityCache,
        *,
        clock: IReactorTime,
        log: Logger | None = None,
        min_interval: float = MIN_INTERVAL,
        max_interval: float = MAX_INTERVAL,
        max_running: int = MAX_RUNNING,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        if not 0 < min_interval <= max_interval:
            raise ValueError("need 0 < min_interval <= max_interval")
        self._cache = cache
        self._clock = clock
        self._log = log if log is not None else Logger(namespace="bitdust.userid.identity_refresh")
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.max_running = max_running
        self.max_tracked = max_tracked
        self._paces: dict[str, _Pace] = {}
        self._running: dict[str, list[defer.Deferred[Identity | None]]] = {}
        self.stats = RefreshStats()

    @property
    def running(self) -> int:
        return len(self._running)

    def refresh(self, idurl: IdUrl | str, *, reason: str = "") -> defer.Deferred[Identity | None]:
        """Re-fetch the identity known by ``idurl`` from all its sources, if its pace allows now."""
        self.stats.asked += 1
        try:
            target = self._cache.resolve(parse_user_ref(idurl))
        except InvalidInput:
            return defer.succeed(None)
        held = self._cache.get(target)
        # Paced per owner (its key), so naming a user by another of its IDURLs gains nothing.
        subject = held.public_key if held is not None else target.url
        if subject in self._running:
            waiter: defer.Deferred[Identity | None] = defer.Deferred()
            self._running[subject].append(waiter)
            return waiter
        now = self._clock.seconds()
        pace = self._paces.get(subject)
        if pace is not None and now < pace.next_allowed:
            self.stats.rate_limited += 1
            return defer.succeed(held)
        if len(self._running) >= self.max_running or (pace is None and not self._room_to_track(now)):
            self.stats.over_capacity += 1
            self._log.info(
                "not refreshing {idurl} now: too many identity refreshes at once", idurl=target.url, reason=reason
            )
            return defer.succeed(held)
        self.stats.started += 1
        self._running[subject] = []
        before = held.revision if held is not None else None
        sources = list(held.sources) if held is not None else [target]
        self._log.debug(
            "refreshing {idurl} (revision {revision}) from {count} sources: {reason}",
            idurl=target.url,
            revision=before,
            count=len(sources),
            reason=reason,
        )
        fetches = [self._fetch_one(source) for source in sources]
        d = defer.DeferredList(fetches, consumeErrors=True)
        return d.addCallback(lambda _results: self._finished(subject, target, before))

    def refresh_if_older(self, idurl: IdUrl | str, revision: int) -> defer.Deferred[Identity | None]:
        """Refresh when the identity we hold for ``idurl`` has a revision below ``revision``.

        ``revision`` is what a verified packet of the owner says it has; a claim its servers do
        not back costs at most the paced refreshes, never a fetch per packet.
        """
        held = self._cache.get(idurl)
        if held is not None and held.revision >= revision:
            return defer.succeed(held)
        return self.refresh(idurl, reason=f"a packet of its owner claims revision {revision}")

    # -- internals ----------------------------------------------------------------------------

    def _fetch_one(self, source: IdUrl) -> defer.Deferred[Identity | None]:
        def failed(failure: Failure) -> None:
            self._log.info("refreshing from {url} failed: {reason}", url=source.url, reason=failure.getErrorMessage())

        return self._cache.fetch(source).addErrback(failed)

    def _room_to_track(self, now: float) -> bool:
        if len(self._paces) < self.max_tracked:
            return True
        # Paces that have run out carry nothing worth keeping: a new refresh may start at once anyway.
        for subject in [s for s, pace in self._paces.items() if pace.next_allowed <= now]:
            del self._paces[subject]
        return len(self._paces) < self.max_tracked

    def _finished(self, subject: str, target: IdUrl, before: int | None) -> Identity | None:
        held = self._cache.get(target)
        newer = held is not None and (before is None or held.revision > before)
        pace = self._paces.get(subject)
        if newer:
            self.stats.found_newer += 1
            interval = self.min_interval
        elif pace is None:
            interval = self.min_interval
        else:
            interval = min(pace.interval * 2, self.max_interval)
        key = held.public_key if held is not None else subject
        self._paces.pop(subject, None)
        self._paces[key] = _Pace(next_allowed=self._clock.seconds() + interval, interval=interval)
        for waiter in self._running.pop(subject, []):
            waiter.callback(held)
        return held
