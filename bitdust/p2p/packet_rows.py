"""The rows of the ``packets_list`` API method, one per packet the gateway knows of.

Rows carry the original BitDust's fields (``direction``, ``command``, ``packet_id``, ``label``,
``target``, ...) beside ours (``state``, ``attempts``, ``error``, ...), so clients written for the
original keep reading them. They are plain dictionaries built here, apart from the gateway, so the
gateway's code says what happens to packets and this module says how they are shown.
"""

from __future__ import annotations

from typing import Any

from bitdust.p2p.packet import Packet


def outgoing_row(info: dict[str, Any], *, in_flight: bool) -> dict[str, Any]:
    """An outgoing packet's ``to_json`` with the original's field names added."""
    target = info["remote_id"]
    state = info["state"]
    return {
        "direction": "outgoing",
        "command": info["command"],
        "packet_id": info["packet_id"],
        "label": f"out:{info['command']}:{info['packet_id']}",
        "target": target,
        "description": f"{info['command']}({info['packet_id']}) to {target}: {state}",
        "response_timeout": info["timeout"],
        "in_flight": in_flight,
        **info,
    }


def incoming_row(packet: Packet, peer: str, size: int, source: object, now: float) -> dict[str, Any]:
    """A row for a packet accepted from ``peer``; it arrived whole, so it is complete.

    ``source`` is the connection the transport handed the bytes in with; what it tells of itself
    (``host``, ``port``, its ``owner`` transport's ``proto``) differs between transports, so each
    field is read only when it is there.
    """
    owner = getattr(source, "owner", None)
    host = getattr(source, "host", None)
    port = getattr(source, "port", None)
    return {
        "direction": "incoming",
        "command": packet.command,
        "packet_id": packet.packet_id,
        "transfer_id": None,
        "label": f"in:{packet.command}:{packet.packet_id}",
        "target": peer,
        "timeout": None,
        "proto": getattr(owner, "proto", None),
        "host": f"{host}:{port}" if host and port else host,
        "size": size,
        "bytes_received": size,
        "in_flight": False,
        "creator_id": packet.creator_id,
        "owner_id": packet.owner_id,
        "received": now,
    }
