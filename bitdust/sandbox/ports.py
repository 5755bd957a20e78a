"""Picking free TCP ports on the loopback interface.

Ports come from a fixed range below Linux's ephemeral range (32768-60999), so that the
kernel does not hand a node's port to some outgoing connection while the node is stopped and
``sandbox start`` can bind the same port again.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterable

LOOPBACK = "127.0.0.1"
PORT_RANGE = (20000, 32000)


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when an engine could listen on ``host:port`` now, over TCP and over UDP.

    Binds the way Twisted's listening ports do (``SO_REUSEADDR`` for TCP), so connections of a
    stopped node still lingering in TIME_WAIT do not count as taking the port. UDP is checked too,
    because the DHT's port is a UDP one: a port whose TCP side is free may still be another
    program's datagram socket.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagrams:
        try:
            datagrams.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(
    count: int,
    *,
    exclude: Iterable[int] = (),
    host: str = LOOPBACK,
    port_range: tuple[int, int] = PORT_RANGE,
    rng: random.Random | None = None,
) -> list[int]:
    """``count`` distinct ports from ``port_range`` that are free right now, none in ``exclude``.

    A small race with other programs remains, as with any free-port picking: a process started
    right after this binds them.
    """
    rng = rng or random.Random()
    excluded = set(exclude)
    low, high = port_range
    if count > high - low + 1 - len(excluded):
        raise OSError(f"port range {low}-{high} is too small for {count} ports")
    ports: list[int] = []
    for _ in range(count * 100 + 1000):
        if len(ports) == count:
            return ports
        port = rng.randint(low, high)
        if port in excluded or port in ports:
            continue
        if port_is_free(port, host):
            ports.append(port)
    if len(ports) == count:
        return ports
    raise OSError(f"could not find {count} free ports in {low}-{high} on {host}")
