"""The allocator tuning the engine applies at start."""

from __future__ import annotations

import sys

import pytest

from bitdust.main.process import malloc_tuning


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_glibc_accepts_the_settings() -> None:
    assert malloc_tuning.tune_malloc() is True


def test_other_platforms_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(malloc_tuning.sys, "platform", "darwin")
    assert malloc_tuning.tune_malloc() is False
