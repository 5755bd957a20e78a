"""Why the gateway refuses an incoming packet: the cheap checks, and what a failed verification means.

Each refusal is a :class:`Refusal`: the label the traffic counters use, the reason logged, and
whether the packet is the sender's fault (``garbage``: the connection it came on is told, and a
transport may close it). The checks here are pure functions of the packet and of what the gateway
knows, so the order they run in, cheapest first and before any fetch or RSA work, reads in one
place and each can be tested alone.
"""

from __future__ import annotations

from collections.abc import Set

import attrs
from twisted.python.failure import Failure

from bitdust.p2p import commands
from bitdust.p2p.errors import PacketError
from bitdust.p2p.packet import Limits, Packet
from bitdust.userid.errors import IdentityFetchError


@attrs.frozen
class Refusal:
    """One packet not taken: ``label`` for the counters, ``reason`` for the log, ``garbage`` if it is the sender's fault."""

    label: str
    reason: str
    garbage: bool


def precheck(packet: Packet, *, my_ids: Set[str], now: float, limits: Limits) -> Refusal | None:
    """The checks a decoded packet passes before anything is fetched or verified for it.

    Addressed to one of our IDURLs, dated inside the window (a peer with a wrong clock is not an
    attacker, so that is not garbage), and owned by its creator unless the command lets an owner
    differ (:data:`~bitdust.p2p.commands.OWNER_MAY_DIFFER`).
    """
    if packet.remote_id not in my_ids:
        return Refusal("not-for-us", f"{packet.command} is addressed to {packet.remote_id}", garbage=False)
    if not now - limits.max_skew <= packet.date <= now + limits.max_future_skew:
        return Refusal("stale", f"{packet.command} from {packet.creator_id} is dated {packet.date}", garbage=False)
    if packet.owner_id != packet.creator_id and packet.command not in commands.OWNER_MAY_DIFFER:
        return Refusal(
            "owner-mismatch",
            f"{packet.command} from {packet.creator_id} claims to be owned by {packet.owner_id}",
            garbage=True,
        )
    return None


def verify_refusal(failure: Failure, packet: Packet) -> Refusal:
    """What a failure to look up the creator or to verify its signature says about the packet."""
    error = failure.value
    if isinstance(error, PacketError):
        return Refusal("bad-signature", f"{packet.command} from {packet.creator_id}: {error.reason}", garbage=True)
    if isinstance(error, IdentityFetchError) and error.reason == "busy":
        # Too many lookups at once (from this address, or to that server): not the sender's fault
        # for sure, so not counted against it; an honest sender retries.
        return Refusal(
            "busy",
            f"identity of {packet.creator_id} is not looked up now: {failure.getErrorMessage()}",
            garbage=False,
        )
    return Refusal(
        "unknown-creator",
        f"identity of {packet.creator_id} is not available: {failure.getErrorMessage()}",
        # A sender that names creators nobody can fetch makes us do HTTP requests for nothing.
        garbage=True,
    )
