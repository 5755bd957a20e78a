"""Shared fixtures of the codec tests: one 1024-bit key per session keeps the suite fast."""

from __future__ import annotations

import pytest

from bitdust.crypt.rsa_key import RsaKey


@pytest.fixture(scope="session")
def rsa_key() -> RsaKey:
    return RsaKey.generate(1024)
