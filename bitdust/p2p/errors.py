"""Errors of the p2p layer."""

from __future__ import annotations

from bitdust.main.errors import Malformed, Unreachable


class PacketError(Malformed):
    """A packet was refused: malformed, oversized, badly signed, stale or from the wrong sender.

    ``reason`` is the short human-readable cause; it is also the message. Everything that parses or
    checks packets raises only this, so a transport can drop the packet with one ``except``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryFailed(Unreachable):
    """A packet of ours did not get through: no route, the peer did not answer, or it said Fail.

    ``reason`` is a short fixed label (``timeout``, ``refused``, ``no-route``, ``identity``,
    ``cancelled``, ``failed``) for callers that branch on it; the message is for people.
    ``detail`` is the text of the peer's Fail when it answered one (None otherwise), so a caller
    that shows the peer's own reason (a supplier refusing a customer) need not parse the message.
    """

    def __init__(self, message: str, *, reason: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail
