"""Where strict mode comes from: the tests run every engine strict, production engines log."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet import task

from bitdust.automats.registry import STRICT_ENVIRONMENT, strict_from_environment
from bitdust.node.composition import create_engine


def test_strict_mode_comes_from_the_environment_unless_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert strict_from_environment({STRICT_ENVIRONMENT: "1"}) is True
    assert strict_from_environment({STRICT_ENVIRONMENT: "0"}) is False
    assert strict_from_environment({}) is False
    # the suite runs strict (tests/conftest.py), so an engine built here is strict by default ...
    engine = create_engine(tmp_path / "a", reactor=task.Clock(), service_factories=[], node_parts=[])
    assert engine.automats.strict is True
    # ... and an engine in production, where nothing sets the variable, logs instead
    monkeypatch.delenv(STRICT_ENVIRONMENT)
    engine = create_engine(tmp_path / "b", reactor=task.Clock(), service_factories=[], node_parts=[])
    assert engine.automats.strict is False
    explicit = create_engine(
        tmp_path / "c", reactor=task.Clock(), service_factories=[], node_parts=[], strict_automats=True
    )
    assert explicit.automats.strict is True
