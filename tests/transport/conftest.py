"""Keys, identities and authenticators for the TCP tests (RSA generation is slow: once per session)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.transport.tcp.auth import Authenticator
from bitdust.userid.identity import Identity

ALICE = "http://127.0.0.1:8084/alice.xml"
BOB = "http://127.0.0.1:8084/bob.xml"
CAROL = "http://127.0.0.1:8084/carol.xml"
MALLORY = "http://127.0.0.1:8084/mallory.xml"
NAMES = (ALICE, BOB, CAROL, MALLORY)


class Directory:
    """Everyone's key and identity, and the identity cache each authenticator looks peers up in."""

    def __init__(self) -> None:
        self.keys = {idurl: RsaKey.generate(1024) for idurl in NAMES}
        self.identities = {
            idurl: Identity(sources=[idurl], public_key=key.public_openssh(), revision=1).signed(key)
            for idurl, key in self.keys.items()
        }
        self.lookups: list[str] = []

    def identity_for(self, idurl: str) -> defer.Deferred[Any]:
        self.lookups.append(idurl)
        identity = self.identities.get(idurl)
        if identity is None:
            return defer.fail(LookupError(f"{idurl} answered HTTP 404"))
        return defer.succeed(identity)

    def authenticator(self, idurl: str, *, key: RsaKey | None = None) -> Authenticator:
        """``idurl``'s authenticator; ``key`` signs in its place (an impostor)."""
        return Authenticator(
            identity=lambda: self.identities[idurl],
            signing_key=lambda: key or self.keys[idurl],
            identity_for=self.identity_for,
            run_blocking=lambda func, *args: defer.maybeDeferred(func, *args),
        )


@functools.cache
def shared_directory() -> Directory:
    """One Directory per test session, for helpers that are not fixtures."""
    return Directory()


@pytest.fixture
def directory() -> Directory:
    return shared_directory()
