from __future__ import annotations

import pytest
from twisted.internet import task

from bitdust.automats.registry import AutomatRegistry
from tests.automats.helpers import SOURCES, load_generated, recording_class


@pytest.fixture(scope="session")
def gate_machine_class(tmp_path_factory: pytest.TempPathFactory) -> type:
    """The generated ``GateMachine`` of ``sources/gate.md``, imported from a temporary file."""
    return load_generated(SOURCES / "gate.md", tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="session")
def gate_class(gate_machine_class: type) -> type:
    """A recording hand-written ``Gate``."""
    return recording_class(gate_machine_class)


@pytest.fixture
def clock() -> task.Clock:
    return task.Clock()


@pytest.fixture
def registry() -> AutomatRegistry:
    return AutomatRegistry(strict=True)
