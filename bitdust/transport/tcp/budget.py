"""How many bytes of unfinished frames and streams the node holds, per connection and in total.

A peer that starts packets and never finishes them makes us hold their bytes: before this budget,
eight connections with four 16 MiB streams each held 512 MiB, and the connection limit allowed
about 64 GiB. The budget counts what each connection holds (its decoder's partial frame plus the
received bytes of its open streams) and bounds it four ways:

- a connection not yet authenticated (a *stranger*: no proof of who it is) holds at most
  ``per_stranger`` bytes, and all strangers together at most ``strangers_total``;
- an authenticated connection holds at most ``per_peer`` bytes (one whole packet in flight, which is
  all an honest sender ever has: it sends one stream at a time);
- everything together stays under ``total``.

A connection that reaches a limit is not read any more (TCP pushes back on its sender) until the
limit has room again: when it is authenticated, when another connection finishes or drops a stream.
What it already holds stays counted, so the figures are exact up to one socket read per connection.
An authenticated connection over its own limit breaks the one-stream-at-a-time rule and is dropped
by the framing layer; a stranger is kept paused until it proves who it is or its stall timer drops
it. Strangers have a pool of their own, so a crowd of them never takes the room honest peers need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime

#: one socket read: what a paused connection may hold beyond its limit, since it was read already
READ_SIZE = 64 * 1024


@attrs.frozen(kw_only=True)
class BudgetLimits:
    per_peer: int
    per_stranger: int = 512 * 1024
    strangers_total: int = 16 * 1024 * 1024
    total: int = 256 * 1024 * 1024


class ReceiveBudget:
    """The node-wide counters; each connection gets an :class:`Account` from :meth:`open`."""

    def __init__(self, limits: BudgetLimits) -> None:
        self.limits = limits
        self.held = 0
        self.strangers_held = 0
        self.peak = 0
        self._accounts: set[Account] = set()

    def open(self, on_room: Callable[[], object]) -> Account:
        """A new connection's account; ``on_room()`` is called when a limit it waited on has room."""
        account = Account(self, on_room)
        self._accounts.add(account)
        return account

    def _changed(self, account: Account, delta: int, *, stranger: bool) -> None:
        self.held += delta
        if stranger:
            self.strangers_held += delta
        self.peak = max(self.peak, self.held)
        if delta < 0:
            self._wake()

    def _wake(self) -> None:
        for account in list(self._accounts):
            if account.waiting and account.fits():
                account.waiting = False
                account.on_room()

    def _forget(self, account: Account) -> None:
        self._accounts.discard(account)
        self._wake()


class Account:
    """One connection's share. The framing layer calls :meth:`hold` after every read."""

    def __init__(self, budget: ReceiveBudget, on_room: Callable[[], object]) -> None:
        self.budget = budget
        self.on_room = on_room
        self.held = 0
        self.trusted = False
        #: the connection is paused until :meth:`fits` (``on_room`` tells it)
        self.waiting = False
        self.closed = False

    @property
    def own_limit(self) -> int:
        limits = self.budget.limits
        return limits.per_peer if self.trusted else limits.per_stranger

    def over_own_limit(self) -> bool:
        return self.held > self.own_limit

    def fits(self) -> bool:
        """Within this connection's own limit and its pool's: it may read more."""
        limits = self.budget.limits
        if self.over_own_limit() or self.budget.held > limits.total:
            return False
        return self.trusted or self.budget.strangers_held <= limits.strangers_total

    def hold(self, held: int) -> bool:
        """The connection now holds ``held`` bytes; False when it must stop reading for now."""
        if self.closed:
            return True
        grew = held > self.held
        delta, self.held = held - self.held, held
        if delta:
            self.budget._changed(self, delta, stranger=not self.trusted)
        if grew and not self.fits():
            self.waiting = True
            return False
        return True

    def trust(self) -> None:
        """The connection proved who it is: its bytes move to the authenticated pool."""
        if self.trusted or self.closed:
            return
        self.trusted = True
        self.budget.strangers_held -= self.held
        self.budget._wake()

    def close(self) -> None:
        """The connection is gone: everything it held is released."""
        if self.closed:
            return
        self.hold(0)
        self.closed = True
        self.waiting = False
        self.budget._forget(self)


class StallTimer:
    """Bytes a connection holds with no progress for ``timeout`` seconds call ``on_stalled()``.

    The framing layer calls :meth:`update` after every read: holding nothing stops the timer, holding
    more or less than before starts it over. An authenticated peer that waits for room other
    connections hold is not stalled (the limit is ours, not its fault): its timer starts over.
    With ``timeout`` None there is no timer at all.
    """

    def __init__(
        self, clock: IReactorTime, timeout: float | None, account: Account | None, on_stalled: Callable[[], object]
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._account = account
        self._on_stalled = on_stalled
        self._call: IDelayedCall | None = None

    def update(self, held: int, changed: bool) -> None:
        if self._timeout is None:
            return
        if held == 0:
            self.cancel()
        elif self._call is None or not self._call.active():
            self._call = self._clock.callLater(self._timeout, self._fired, self._timeout)
        elif changed:
            self._call.reset(self._timeout)

    def cancel(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _fired(self, timeout: float) -> None:
        self._call = None
        account = self._account
        if account is not None and account.waiting and account.trusted and not account.over_own_limit():
            # An authenticated peer waiting for room others hold: our limit, not its stall.
            self._call = self._clock.callLater(timeout, self._fired, timeout)
            return
        self._on_stalled()
