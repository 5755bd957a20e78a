"""Which UDP addresses proved they are where they say, and how much one that did not may be sent.

A datagram's source address is whatever its sender wrote: anyone can make a node answer "to" a
bystander. An address is *verified* once a round trip went through it: it answered a request we
sent there (the reply quoted our random RPC id), or its request carried a token we handed out to
that address. Tokens, as in the Kademlia-family DHTs, are ``HMAC(secret, epoch, host, port)``:
they need no state per address, every answer carries one for its destination, and one is good
for one to two :data:`TOKEN_PERIOD` s.

An unverified address is never sent more than ``factor`` times the bytes it sent us (plus a small
``allowance``, enough for one list of contacts), counted over a ``window``: whatever a node says to
a forged source, a flood reflected off it is at most a few times the flood itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from typing import TypeVar

from twisted.internet.interfaces import IReactorTime

Address = tuple[str, int]
#: what a bounded table holds per address (an expiry time, a traffic window, a token)
_Entry = TypeVar("_Entry")

TOKEN_PERIOD = 300.0
TOKEN_BYTES = 8


class AddressGuard:
    def __init__(
        self,
        clock: IReactorTime,
        secret: bytes,
        *,
        factor: float = 3.0,
        allowance: int = 600,
        window: float = 60.0,
        verified_for: float = 2 * TOKEN_PERIOD,
        max_addresses: int = 8192,
    ) -> None:
        self._clock = clock
        self._secret = secret
        self.factor = factor
        self.allowance = allowance
        self.window = window
        self.verified_for = verified_for
        self._max = max_addresses
        self._verified: OrderedDict[Address, float] = OrderedDict()
        self._traffic: OrderedDict[Address, list[float]] = OrderedDict()
        self._tokens: OrderedDict[Address, bytes] = OrderedDict()

    # -- tokens we hand out ------------------------------------------------------------------

    def token_for(self, address: Address, epoch: int | None = None) -> bytes:
        """The token ``address`` must bring back to prove it received what we sent there."""
        if epoch is None:
            epoch = int(self._clock.seconds() // TOKEN_PERIOD)
        text = f"{epoch}|{address[0]}|{address[1]}".encode()
        return hmac.new(self._secret, text, hashlib.sha256).digest()[:TOKEN_BYTES]

    def check_token(self, address: Address, token: bytes) -> bool:
        """True (and ``address`` is verified from now on) when ``token`` is one we gave it lately."""
        epoch = int(self._clock.seconds() // TOKEN_PERIOD)
        for candidate in (epoch, epoch - 1):
            if hmac.compare_digest(token, self.token_for(address, candidate)):
                self.mark_verified(address)
                return True
        return False

    # -- verified addresses ------------------------------------------------------------------

    def mark_verified(self, address: Address) -> None:
        self._verified.pop(address, None)
        self._verified[address] = self._clock.seconds() + self.verified_for
        self._bound(self._verified)

    def is_verified(self, address: Address) -> bool:
        until = self._verified.get(address)
        return until is not None and until > self._clock.seconds()

    # -- the budget of unverified addresses --------------------------------------------------

    def received(self, address: Address, size: int) -> None:
        """``size`` bytes arrived from ``address``: it may be sent ``factor`` times as much."""
        self._entry(address)[0] += size

    def may_send(self, address: Address, size: int) -> bool:
        """Whether ``size`` more bytes may go to ``address`` now (counted when they may)."""
        if self.is_verified(address):
            return True
        entry = self._entry(address)
        if entry[1] + size > self.factor * entry[0] + self.allowance:
            return False
        entry[1] += size
        return True

    def _entry(self, address: Address) -> list[float]:
        now = self._clock.seconds()
        entry = self._traffic.pop(address, None)
        if entry is None or now - entry[2] >= self.window:
            entry = [0.0, 0.0, now]  # received, sent, window start
        self._traffic[address] = entry
        self._bound(self._traffic)
        return entry

    # -- tokens other nodes gave us ----------------------------------------------------------

    def remember_token(self, address: Address, token: bytes) -> None:
        self._tokens.pop(address, None)
        self._tokens[address] = token
        self._bound(self._tokens)

    def token_to_send(self, address: Address) -> bytes:
        """The token ``address`` last gave us (b"" if none): our requests there carry it."""
        return self._tokens.get(address, b"")

    def _bound(self, table: OrderedDict[Address, _Entry]) -> None:
        while len(table) > self._max:
            table.popitem(last=False)
