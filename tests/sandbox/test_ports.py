from __future__ import annotations

import random
import socket

import pytest

from bitdust.sandbox.ports import free_ports, port_is_free


def test_free_ports_are_distinct_free_and_not_excluded() -> None:
    excluded = set(range(20000, 20100))
    ports = free_ports(10, exclude=excluded, port_range=(20000, 20200))
    assert len(set(ports)) == 10
    assert not excluded.intersection(ports)
    assert all(20000 <= p <= 20200 for p in ports)
    assert all(port_is_free(p) for p in ports)


def test_a_listening_port_is_not_free_and_is_never_picked() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(OSError):
            free_ports(1, port_range=(port, port), rng=random.Random(1))


def test_a_port_bound_for_datagrams_is_not_free_and_is_never_picked() -> None:
    """The DHT listens for UDP on its port: a TCP-free port another program holds for UDP is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagrams:
        datagrams.bind(("127.0.0.1", 0))
        port = datagrams.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(OSError):
            free_ports(1, port_range=(port, port), rng=random.Random(1))


def test_a_port_in_time_wait_counts_as_free() -> None:
    """A stopped node's port still has connections in TIME_WAIT; its engine can bind it again."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first and goes to TIME_WAIT
        client.close()
    assert port_is_free(port)


def test_too_small_a_range_is_an_error() -> None:
    with pytest.raises(OSError):
        free_ports(3, port_range=(20000, 20001))
