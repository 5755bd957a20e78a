"""Counters of what flows through the gateway, for ``packets_stats`` and ``packets_list``.

Two views of the same traffic are kept. Ours: per command and per peer, packets and bytes in each
direction, plus the reasons packets were dropped. The original BitDust's: an ``in`` and an ``out``
section of totals (``total_bytes``, ``unknown_bytes``, ``total_packets``, ``unknown_packets``,
``failed_packets``, bytes per peer), which clients written against it read. What each of the
original's counters means here:

* ``in.total_bytes``: every byte a transport handed to the gateway, accepted or refused (the API
  adds the identity documents fetched, as the original did); ``in.total_packets``: packets
  accepted from a verified peer; ``in.unknown_*``: packets we cannot attribute to a verified peer
  (malformed, addressed to someone else, or whose creator's identity could not be fetched);
  ``in.failed_packets``: packets from a named sender that we refused (stale date, bad signature,
  a replay).
* ``out.total_bytes``: every byte handed to a transport, each attempt; ``out.total_packets``:
  outgoing packets delivered (Ack received, or an Ack/Fail of ours sent); ``out.failed_packets``:
  outgoing packets that ended failed although the receiver's identity was known (timeout, Fail
  answer, no route, cancelled); ``out.unknown_packets``: those that failed before any byte went out
  because the receiver's identity could not be had; ``out.unknown_bytes`` stays 0 for that reason.

Peer tables are bounded: a node talking to many strangers keeps the busiest ones and folds the rest
into ``other``, so counting can never be what exhausts memory.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

OTHER = "other"

UNKNOWN_SENDER = frozenset({"malformed", "not-for-us", "unknown-creator", "busy", "owner-mismatch"})
"""Drop reasons of packets whose sender we cannot name: the original's "unknown" packets."""

REFUSED_SENDER = frozenset({"stale", "bad-signature", "replay"})
"""Drop reasons of packets from a named sender that we refused: the original's "failed" packets."""


@attrs.define
class Flow:
    packets_in: int = 0
    bytes_in: int = 0
    packets_out: int = 0
    bytes_out: int = 0

    def add(self, direction: str, size: int) -> None:
        if direction == "in":
            self.packets_in += 1
            self.bytes_in += size
        else:
            self.packets_out += 1
            self.bytes_out += size

    def to_json(self) -> dict[str, int]:
        return attrs.asdict(self)


@attrs.define
class Section:
    """One direction in the original's terms (see the module docstring for each counter)."""

    total_bytes: int = 0
    unknown_bytes: int = 0
    total_packets: int = 0
    unknown_packets: int = 0
    failed_packets: int = 0
    peers: dict[str, int] = attrs.field(factory=dict)

    def add_peer(self, peer: str, size: int, max_peers: int) -> None:
        if peer not in self.peers and len(self.peers) >= max_peers:
            peer = OTHER
        self.peers[peer] = self.peers.get(peer, 0) + size

    def to_json(self) -> dict[str, Any]:
        result = attrs.asdict(self)
        result["peers"] = dict(sorted(self.peers.items()))
        return result


@attrs.frozen
class IdentityFetches:
    """Identity documents fetched over HTTP: the original's ``identity_cache_*`` counters."""

    count: int = 0
    fails: int = 0
    bytes: int = 0


@attrs.define
class Transfer:
    """One attempt to hand an outgoing packet to a transport: an ``items`` row of ``packets_list``."""

    transfer_id: str
    proto: str
    host: str
    size: int
    bytes_sent: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


class TrafficStats:
    def __init__(self, max_peers: int = 1000) -> None:
        self.max_peers = max_peers
        self.total = Flow()
        self.by_command: dict[str, Flow] = {}
        self.by_peer: dict[str, Flow] = {}
        self.dropped: Counter[str] = Counter()
        self.inbound = Section()
        self.outbound = Section()

    def count(self, direction: str, command: str, peer: str, size: int) -> None:
        """A packet accepted from ``peer`` (``in``) or bytes handed to a transport for it (``out``)."""
        self.total.add(direction, size)
        self.by_command.setdefault(command, Flow()).add(direction, size)
        if peer not in self.by_peer and len(self.by_peer) >= self.max_peers:
            peer = OTHER
        self.by_peer.setdefault(peer, Flow()).add(direction, size)
        section = self.inbound if direction == "in" else self.outbound
        section.total_bytes += size
        if direction == "in":
            section.total_packets += 1
        section.add_peer(peer, size, self.max_peers)

    def drop(self, reason: str) -> None:
        """``reason`` is a short fixed label (never attacker-chosen text), so this stays bounded."""
        self.dropped[reason] += 1

    def refuse(self, reason: str, size: int) -> None:
        """An incoming packet of ``size`` bytes dropped for ``reason``; counted in the ``in`` section too."""
        self.drop(reason)
        self.inbound.total_bytes += size
        if reason in UNKNOWN_SENDER:
            self.inbound.unknown_packets += 1
            self.inbound.unknown_bytes += size
        elif reason in REFUSED_SENDER:
            self.inbound.failed_packets += 1

    def settled(self, *, delivered: bool, receiver_known: bool) -> None:
        """An outgoing packet finished: delivered, or failed with or without the receiver's identity."""
        if delivered:
            self.outbound.total_packets += 1
        elif receiver_known:
            self.outbound.failed_packets += 1
        else:
            self.outbound.unknown_packets += 1

    def to_json(self, identity_fetches: IdentityFetches | None = None) -> dict[str, Any]:
        """Ours (``total``, ``commands``, ``peers``, ``dropped``) and the original's ``in``/``out``."""
        fetches = identity_fetches or IdentityFetches()
        inbound = self.inbound.to_json()
        inbound["total_bytes"] += fetches.bytes
        inbound["identity_cache_count"] = fetches.count
        inbound["identity_cache_fails"] = fetches.fails
        inbound["identity_cache_bytes"] = fetches.bytes
        return {
            "in": inbound,
            "out": self.outbound.to_json(),
            "total": self.total.to_json(),
            "commands": {name: flow.to_json() for name, flow in sorted(self.by_command.items())},
            "peers": {name: flow.to_json() for name, flow in sorted(self.by_peer.items())},
            "dropped": dict(sorted(self.dropped.items())),
        }
