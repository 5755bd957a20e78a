"""Errors of the sandbox launcher."""

from __future__ import annotations

from bitdust.main.errors import BitDustError


class SandboxError(BitDustError):
    """A sandbox operation failed; the message says what and where."""


class SandboxNotFound(SandboxError):
    """The folder holds no sandbox (no ``sandbox.json``)."""

    http_code = 404


class SandboxRunning(SandboxError):
    """The folder already has live nodes; ``up`` refuses to start a second network over them."""

    http_code = 409


class NodeStartFailed(SandboxError):
    """A node's process exited early or did not answer ``process_health`` in time."""
