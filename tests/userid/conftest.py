from __future__ import annotations

import pytest

from bitdust.crypt.rsa_key import RsaKey


@pytest.fixture(scope="session")
def key_a() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture(scope="session")
def key_b() -> RsaKey:
    return RsaKey.generate(1024)
