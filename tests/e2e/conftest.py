"""Fixtures of the end-to-end tests: real engine processes in a sandbox, always torn down.

``shared_nodes`` (session) is a two-node sandbox that tests share as long as they leave the nodes
running; ``node`` is its first node. ``own_node`` (per test) is a fresh one-node sandbox for a test
that stops, restarts or kills its node. ``sandbox_factory`` makes more sandboxes in ``tmp_path``.
Every sandbox is brought down in a finalizer, whatever the test did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord

SHARED_NODES = 2


class _Sandboxes:
    """Remembers every sandbox it started, so teardown stops all of them."""

    def __init__(self) -> None:
        self.started: list[Sandbox] = []

    def start(self, directory: Path, nodes: int) -> Sandbox:
        box = Sandbox(directory)
        self.started.append(box)  # before up(): a half-started sandbox is stopped too
        box.up(nodes)
        return box

    def teardown(self) -> None:
        errors = []
        for box in reversed(self.started):
            try:
                if (box.directory / "sandbox.json").exists():
                    box.down()
            except Exception as exc:  # keep stopping the others, report at the end
                errors.append(f"{box.directory}: {exc}")
        self.started.clear()
        if errors:
            raise RuntimeError("sandbox teardown failed: " + "; ".join(errors))


@pytest.fixture(scope="session")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    boxes = _Sandboxes()
    try:
        yield boxes.start(tmp_path_factory.mktemp("shared-sandbox"), SHARED_NODES)
    finally:
        boxes.teardown()


@pytest.fixture(scope="session")
def shared_nodes(shared_sandbox: Sandbox) -> list[NodeRecord]:
    return list(shared_sandbox.load().nodes)


@pytest.fixture
def node(shared_nodes: list[NodeRecord]) -> NodeRecord:
    """A running node that the test must leave running (and its config as it found it)."""
    return shared_nodes[0]


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[[int], Sandbox]]:
    boxes = _Sandboxes()
    count = 0

    def make(nodes: int = 1) -> Sandbox:
        nonlocal count
        count += 1
        return boxes.start(tmp_path / f"sandbox-{count}", nodes)

    try:
        yield make
    finally:
        boxes.teardown()


@pytest.fixture
def own_sandbox(sandbox_factory: Callable[[int], Sandbox]) -> Sandbox:
    """A one-node sandbox of this test alone."""
    return sandbox_factory(1)


@pytest.fixture
def own_node(own_sandbox: Sandbox) -> NodeRecord:
    """A node this test may stop, restart or kill."""
    return own_sandbox.load().nodes[0]
