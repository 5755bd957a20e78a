"""Bad packets count per peer address across connections (issue 11 point 7): reconnecting gains nothing.

Before the fix the 3-bad-packets limit was per connection, so an attacker reconnected and went on.
"""

from __future__ import annotations

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport

from bitdust.transport.penalties import AddressPenalties
from bitdust.transport.tcp.connections import ConnectionFactory, TcpConnection, TcpTransport

ATTACKER = "203.0.113.66"
HONEST = "198.51.100.7"


def _transport() -> TcpTransport:
    return TcpTransport(
        MemoryReactorClock(), on_packet=lambda data, conn: None, max_packet=1 << 20, keepalive=None, dead_timeout=None
    )


def _connect(transport: TcpTransport, host: str) -> TcpConnection | None:
    factory = ConnectionFactory(transport, "in")
    address = IPv4Address("TCP", host, 40000 + len(transport.connections))
    conn = factory.buildProtocol(address)
    if conn is not None:
        conn.makeConnection(StringTransport(peerAddress=address))
    return conn


def test_reconnecting_does_not_reset_the_count_and_the_address_is_refused() -> None:
    transport = _transport()
    verified = _connect(transport, ATTACKER)  # a verified peer sharing the address (one NAT)
    transport.bind(verified, "http://id-a.net/carol.xml")
    connections = 0
    while True:
        conn = _connect(transport, ATTACKER)
        if conn is None:
            break
        connections += 1
        assert connections < 10, "the address was never refused"
        for _ in range(transport.max_garbage):
            conn.report_garbage("bad packet signature")
        assert not conn.is_open
    assert connections == 4  # 3 + 3 + 3 + 1: the tenth bad packet from the address
    assert transport.refused_connections == 1
    assert verified.is_open  # a verified peer behind the same address keeps its connection
    honest = _connect(transport, HONEST)
    assert honest is not None and honest.is_open


def test_a_refused_address_is_let_in_again_later_and_bans_grow() -> None:
    clock = task.Clock()
    penalties = AddressPenalties(clock, max_bad=2, ban=60, max_ban=200)
    assert not penalties.report(ATTACKER)
    assert penalties.report(ATTACKER) and penalties.is_refused(ATTACKER)
    clock.advance(60)
    assert not penalties.is_refused(ATTACKER)
    penalties.report(ATTACKER)
    assert penalties.report(ATTACKER)
    clock.advance(60)
    assert penalties.is_refused(ATTACKER)  # second ban: 120 s
    clock.advance(60)
    assert not penalties.is_refused(ATTACKER)
    assert not penalties.is_refused(HONEST)


def test_bad_packets_are_forgiven_after_the_window() -> None:
    clock = task.Clock()
    penalties = AddressPenalties(clock, max_bad=3, window=100)
    penalties.report(HONEST)
    penalties.report(HONEST)
    clock.advance(101)
    assert not penalties.report(HONEST)
    assert not penalties.is_refused(HONEST)


def test_the_ledger_is_bounded() -> None:
    penalties = AddressPenalties(task.Clock(), max_tracked=100)
    for i in range(1000):
        penalties.report(f"10.0.{i // 250}.{i % 250}")
    assert len(penalties) <= 100
