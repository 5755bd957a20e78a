"""How much one stranger may make an identity server do and keep (issue 11 point 8).

Registration costs a client nothing, so every resource it takes on the server is bounded:

* **in flight**: registrations being parsed and written at once, per client address and in total
  (each holds a body of up to 32 KB and a signature check on a worker thread);
* **new names per address**: names created from one address within a sliding window (an hour);
* **names per key**: how many names one public key may hold on this server;
* **names in total**: ``services/identity-server/max-identities``.

Updates of a name already held (a higher revision from the same key) are never refused by the
count quotas: a full server keeps serving and updating the users it has. New names are reserved
while their registration is under way, so concurrent registrations cannot overshoot a limit, and a
reservation that fails is given back. Everything here runs on the reactor thread.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import attrs

from bitdust.main.errors import LimitReached, OutOfSpace, Refused

DEFAULT_MAX_IDENTITIES = 10_000
DEFAULT_MAX_PER_KEY = 3
DEFAULT_MAX_NEW_PER_ADDRESS = 60
DEFAULT_ADDRESS_WINDOW = 3600.0
DEFAULT_MAX_IN_FLIGHT_PER_ADDRESS = 16
DEFAULT_MAX_IN_FLIGHT = 64


class QuotaExceeded(LimitReached):
    """A limit of this server, not a fault of the document: the answer says which and how to retry."""


class ServerFull(OutOfSpace, QuotaExceeded):
    """No room for another name on this server (updates of hosted names still work)."""


class KeyQuotaExceeded(Refused, QuotaExceeded):
    """The posting key already holds as many names as one key may here."""


@attrs.frozen
class IdentityServerLimits:
    """The bounds above; each at least 1."""

    max_identities: int = DEFAULT_MAX_IDENTITIES
    max_per_key: int = DEFAULT_MAX_PER_KEY
    max_new_per_address: int = DEFAULT_MAX_NEW_PER_ADDRESS
    address_window: float = DEFAULT_ADDRESS_WINDOW
    max_in_flight_per_address: int = DEFAULT_MAX_IN_FLIGHT_PER_ADDRESS
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):
            if getattr(self, field.name) <= 0:
                raise ValueError(f"{field.name} must be positive")


class RegistrationQuotas:
    """The counters behind :class:`IdentityServerLimits`; ``stored`` and ``held_by`` read the store's index."""

    def __init__(
        self,
        limits: IdentityServerLimits,
        *,
        now: Callable[[], float],
        stored: Callable[[], int],
        held_by: Callable[[str], int],
    ) -> None:
        self.limits = limits
        self._now = now
        self._stored = stored
        self._held_by = held_by
        self._in_flight: collections.Counter[str] = collections.Counter()
        self._in_flight_total = 0
        self._created: dict[str, collections.deque[float]] = {}
        self._reserved: dict[str, tuple[str, str, float]] = {}  # name -> (key id, address, when)

    # -- in flight ------------------------------------------------------------------------------

    def begin(self, address: str) -> None:
        """Count one registration from ``address`` as under way, or refuse it (before its body is parsed)."""
        if self._in_flight_total >= self.limits.max_in_flight:
            raise QuotaExceeded("the identity server is busy with other registrations: try again in a minute")
        if self._in_flight[address] >= self.limits.max_in_flight_per_address:
            raise QuotaExceeded(
                f"{self.limits.max_in_flight_per_address} registrations from your address are already under way"
            )
        self._in_flight[address] += 1
        self._in_flight_total += 1

    def end(self, address: str) -> None:
        self._in_flight[address] -= 1
        if self._in_flight[address] <= 0:
            del self._in_flight[address]
        self._in_flight_total -= 1

    def in_flight(self) -> int:
        return self._in_flight_total

    # -- new names ------------------------------------------------------------------------------

    def check_new_name(self, address: str) -> None:
        """Cheap checks for a name this server does not host, before any parsing."""
        if self._stored() + len(self._reserved) >= self.limits.max_identities:
            raise ServerFull(
                f"this identity server hosts its maximum of {self.limits.max_identities} identities: use another one"
            )
        if len(self._recent(address)) >= self.limits.max_new_per_address:
            raise QuotaExceeded(
                f"{self.limits.max_new_per_address} identities were created from your address in the last "
                f"{self.limits.address_window:g} s: try again later"
            )

    def reserve(self, name: str, key_id: str, address: str) -> None:
        """Hold a place for ``name`` (new here) while it is written; :meth:`release` gives it back."""
        self.check_new_name(address)
        held = self._held_by(key_id) + sum(1 for key, _a, _t in self._reserved.values() if key == key_id)
        if held >= self.limits.max_per_key:
            raise KeyQuotaExceeded(f"this public key already holds {held} identities here, the most one key may")
        when = self._now()
        self._reserved[name] = (key_id, address, when)
        self._created.setdefault(address, collections.deque()).append(when)

    def is_reserved(self, name: str) -> bool:
        return name in self._reserved

    def release(self, name: str, *, stored: bool) -> None:
        """The registration of ``name`` ended; when nothing was stored, its address gets its count back."""
        key_id, address, when = self._reserved.pop(name)
        if not stored:
            recent = self._created.get(address)
            if recent is not None and when in recent:
                recent.remove(when)
                if not recent:
                    del self._created[address]

    def _recent(self, address: str) -> collections.deque[float]:
        """The creation times from ``address`` inside the window (older ones are forgotten here)."""
        recent = self._created.get(address)
        if recent is None:
            return collections.deque()
        horizon = self._now() - self.limits.address_window
        while recent and recent[0] <= horizon:
            recent.popleft()
        if not recent:
            del self._created[address]
        return recent

    def tracked_addresses(self) -> int:
        """Addresses with state here (bounded: each needs a reservation or a request under way)."""
        return len(set(self._created) | set(self._in_flight))
