"""TCP contacts: ``tcp://host:port`` in identities, ``(host, port)`` for the reactor."""

from __future__ import annotations

PROTO = "tcp"


def parse_address(contact: str) -> tuple[str, int]:
    """``tcp://host:port`` (or ``host:port``) -> ``(host, port)``; ValueError when malformed."""
    scheme, sep, rest = contact.partition("://")
    if not sep:
        rest = contact
    elif scheme != PROTO:
        raise ValueError(f"not a tcp contact: {contact!r}")
    host, sep, port_text = rest.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"not a tcp contact: {contact!r}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"bad port in tcp contact: {contact!r}")
    return host, port
