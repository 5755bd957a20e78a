"""Errors of the sandbox launcher."""

from __future__ import annotations

from bitdust.main.errors import Conflict, InternalError, NotFound


class SandboxError(InternalError):
    """A sandbox operation failed; the message says what and where."""


class SandboxNotFound(NotFound, SandboxError):
    """The folder holds no sandbox (no ``sandbox.json``)."""


class SandboxRunning(Conflict, SandboxError):
    """The folder already has live nodes; ``up`` refuses to start a second network over them."""


class NodeStartFailed(SandboxError):
    """A node's process exited early or did not answer ``process_health`` in time."""
