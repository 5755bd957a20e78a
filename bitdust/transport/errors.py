"""Errors of the transport subsystem.

They are of the kind :class:`RemoteFailure` (the peer or the link failed), so the API layer reports a
failed transfer the same way as any other domain error.
"""

from __future__ import annotations

from bitdust.main.errors import RemoteFailure


class TransportError(RemoteFailure):
    """Base of all transport errors."""


class ProtocolViolation(TransportError):
    """The peer sent bytes that break the framing rules; ``reason`` is a short kebab-case code."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"protocol violation: {reason}")
        self.reason = reason


class NotConnected(TransportError):
    """Something was sent before the connection was made or after it was lost."""


class StreamAborted(TransportError):
    """An outgoing stream was cancelled by the peer, ran short of data, or lost its connection."""
