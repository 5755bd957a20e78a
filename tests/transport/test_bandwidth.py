"""Traffic limits: the token bucket, and the TCP transport obeying send and receive limits."""

from __future__ import annotations

import pytest
from twisted.internet import task
from twisted.internet.testing import StringTransport

from bitdust.transport.bandwidth import TokenBucket
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.connections import TcpConnection
from tests.transport.test_connections import QUIET, MemoryPair, Peer

MIB = 1024 * 1024


def test_unlimited_bucket_never_waits() -> None:
    bucket = TokenBucket(task.Clock(), 0)
    assert bucket.take(10**12) == 0.0 and bucket.delay() == 0.0


def test_bucket_allows_one_second_of_burst_then_says_how_long_to_wait() -> None:
    clock = task.Clock()
    bucket = TokenBucket(clock, 1000)
    assert bucket.take(1000) == 0.0
    assert bucket.take(500) == pytest.approx(0.5)
    assert bucket.delay() == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.delay() == 0.0
    clock.advance(100)  # a long quiet spell refills one second's worth, no more
    assert bucket.take(1000) == 0.0
    assert bucket.take(1) > 0


def test_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(task.Clock(), -1)


def test_send_limit_spreads_a_stream_over_time() -> None:
    pair = MemoryPair(alice_options={"send_limit": MIB // 2})
    pair.client.send_packet(b"x" * (2 * MIB))
    pair.flush()
    seconds = 0.0
    while not pair.bob.payloads() and seconds < 10:
        pair.clock.advance(0.1)
        pair.flush()
        seconds += 0.1
    assert pair.bob.payloads() == [b"x" * (2 * MIB)]
    # half a MiB of burst, then half a MiB/s: the last chunk can not leave before about 3 s
    assert seconds >= 2.7
    assert pair.alice.transport.send_bucket.waited > 0


def test_without_a_limit_the_same_stream_needs_no_clock_time() -> None:
    pair = MemoryPair()
    pair.client.send_packet(b"x" * (2 * MIB))
    pair.flush()
    assert pair.bob.payloads() == [b"x" * (2 * MIB)]


def test_receive_limit_pauses_reading_on_every_connection_until_the_debt_is_paid() -> None:
    clock = task.Clock()
    peer = Peer(clock, "http://127.0.0.1:8084/bob.xml", **QUIET, idle_close=None, receive_limit=1000)
    conns = []
    for _ in range(2):
        conn = TcpConnection(peer.transport, "in")
        conn.makeConnection(StringTransport())
        conns.append(conn)
    conns[0].dataReceived(frames.encode_hello() + frames.encode_frame(frames.FrameType.MESSAGE, 0, b"y" * 1500))
    assert all(c.transport.producerState == "paused" for c in conns)
    clock.advance(0.4)
    assert all(c.transport.producerState == "paused" for c in conns)
    clock.advance(0.2)
    assert all(c.transport.producerState == "producing" for c in conns)
    assert not clock.getDelayedCalls()
