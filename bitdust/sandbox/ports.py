"""Picking free TCP ports on the loopback interface."""

from __future__ import annotations

import socket
from collections.abc import Iterable

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` and we could bind it now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, *, exclude: Iterable[int] = (), host: str = LOOPBACK) -> list[int]:
    """``count`` distinct ports that are free right now, none of them in ``exclude``.

    Every socket stays bound until all ports are chosen, so the kernel cannot hand out the
    same port twice. The ports are released again before returning: a process started right
    after binds them (a tiny race with other programs remains, as with any free-port picking).
    """
    excluded = set(exclude)
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        attempts = 0
        while len(ports) < count:
            attempts += 1
            if attempts > count * 50 + 100:
                raise OSError(f"could not find {count} free ports on {host}")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind((host, 0))
            port = sock.getsockname()[1]
            if port in excluded or port in ports:
                continue
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports
