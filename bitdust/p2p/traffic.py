"""Counters of what flows through the gateway, for ``packets_stats``.

Per command and per peer, packets and bytes in each direction, plus the reasons packets were
dropped. The peer table is bounded: a node talking to many strangers keeps the busiest ones and
folds the rest into ``other``, so counting can never be what exhausts memory.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

OTHER = "other"


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


class TrafficStats:
    def __init__(self, max_peers: int = 1000) -> None:
        self.max_peers = max_peers
        self.total = Flow()
        self.by_command: dict[str, Flow] = {}
        self.by_peer: dict[str, Flow] = {}
        self.dropped: Counter[str] = Counter()

    def count(self, direction: str, command: str, peer: str, size: int) -> None:
        self.total.add(direction, size)
        self.by_command.setdefault(command, Flow()).add(direction, size)
        if peer not in self.by_peer and len(self.by_peer) >= self.max_peers:
            peer = OTHER
        self.by_peer.setdefault(peer, Flow()).add(direction, size)

    def drop(self, reason: str) -> None:
        """``reason`` is a short fixed label (never attacker-chosen text), so this stays bounded."""
        self.dropped[reason] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total.to_json(),
            "commands": {name: flow.to_json() for name, flow in sorted(self.by_command.items())},
            "peers": {name: flow.to_json() for name, flow in sorted(self.by_peer.items())},
            "dropped": dict(sorted(self.dropped.items())),
        }
