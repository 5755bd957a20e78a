"""Keys and identities shared by the packet tests (RSA generation is slow: once per session)."""

from __future__ import annotations

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.userid.identity import Identity

ALICE = "http://h.net/alice.xml"
ALICE2 = "http://other.net:8084/alice.xml"
BOB = "http://h.net/bob.xml"


@pytest.fixture(scope="session")
def alice_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture(scope="session")
def bob_key() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture(scope="session")
def alice(alice_key: RsaKey) -> Identity:
    return Identity(sources=[ALICE, ALICE2], public_key=alice_key.public_openssh(), revision=1).signed(alice_key)
