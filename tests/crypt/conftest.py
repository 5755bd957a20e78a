"""Shared keys for the crypt tests: generated once per session, 1024 bits to keep the suite fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.crypt.rsa_key import RsaKey
from tests.crypt.registry_helpers import IDURL, OWNER, make_registry


@pytest.fixture(scope="session")
def key_a() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture(scope="session")
def key_b() -> RsaKey:
    return RsaKey.generate(1024)


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def registry(folder: Path, key_a: RsaKey, events: list[dict[str, Any]]) -> KeyRegistry:
    """A registry whose owner is alice, with ``key_a`` installed as her master key."""
    reg = make_registry(folder, events)
    reg.install_master(key_a, OWNER, IDURL)
    return reg
