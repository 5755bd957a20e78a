"""Tests of the TCP framing layer, all in memory (StringTransport, iosim, task.Clock)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.test import iosim

from bitdust.transport.errors import NotConnected, StreamAborted
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.frames import FrameType, encode_frame, encode_hello
from bitdust.transport.tcp.framing import FrameProtocol


class Recorder:
    """Collects everything a protocol delivers."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.streams: dict[int, bytearray] = {}
        self.ended: list[int] = []
        self.aborted: list[tuple[int, str]] = []
        self.violations: list[str] = []

    def start(self, stream_id: int, total: int):
        buf = self.streams[stream_id] = bytearray()
        return buf.extend

    def kwargs(self) -> dict:
        return {
            "on_message": self.messages.append,
            "on_stream_start": self.start,
            "on_stream_end": self.ended.append,
            "on_stream_abort": lambda sid, reason: self.aborted.append((sid, reason)),
            "on_violation": self.violations.append,
        }


def make(clock=None, **kw):
    rec = Recorder()
    proto = FrameProtocol(clock or task.Clock(), **{**rec.kwargs(), **kw})
    return proto, rec


def pair():
    server, srec = make()
    client, crec = make()
    c, s, pump = iosim.connectedServerAndClient(lambda: server, lambda: client, greet=True)
    return server, srec, client, crec, pump


def test_message_round_trip():
    server, srec, client, crec, pump = pair()
    client.send_message(b"hello")
    server.send_message(b"")
    pump.flush()
    assert srec.messages == [b"hello"]
    assert crec.messages == [b""]
    assert server.stats.frames_in == 1 and client.stats.violations == 0


def test_message_too_big():
    client, _ = make()
    client.makeConnection(StringTransport())
    with pytest.raises(ValueError):
        client.send_message(b"x" * (frames.MAX_MESSAGE + 1))


def test_send_before_connect():
    client, _ = make()
    with pytest.raises(NotConnected):
        client.send_message(b"x")


def test_big_stream_round_trip_and_queue():
    server, srec, client, crec, pump = pair()
    big = bytes(range(256)) * (5 * 1024 * 4)  # 5 MiB
    results = []
    client.send_stream(big).addCallback(results.append)
    client.send_stream(io.BytesIO(b"second")).addCallback(results.append)
    client.send_stream(b"").addCallback(results.append)
    for _ in range(1000):
        if len(results) == 3:
            break
        pump.pump()
    pump.flush()
    assert results == [None, None, None]
    assert bytes(srec.streams[1]) == big
    assert bytes(srec.streams[2]) == b"second"
    assert srec.streams[3] == bytearray()
    assert srec.ended == [1, 2, 3]
    assert server.streams() == [] and client.streams() == []


def test_byte_at_a_time():
    sender, _ = make()
    out = StringTransport()
    sender.makeConnection(out)
    sender.send_message(b"abc")
    sender.send_stream(b"0123456789")
    while out.producer is not None:
        out.producer.resumeProducing()
    receiver, rec = make()
    receiver.makeConnection(StringTransport())
    for byte in out.value():
        receiver.dataReceived(bytes([byte]))
        assert receiver.decoder.buffered <= frames.MAX_BUFFER
    assert rec.messages == [b"abc"]
    assert bytes(rec.streams[1]) == b"0123456789" and rec.ended == [1]


def test_backpressure_with_non_draining_transport():
    sender, _ = make()
    out = StringTransport()
    sender.makeConnection(out)
    done = []
    sender.send_stream(b"z" * (10 * 1024 * 1024)).addCallback(done.append)
    assert len(out.value()) < 3 * frames.MAX_CHUNK
    assert sender.streams()[0].done == 0
    out.producer.resumeProducing()
    out.producer.resumeProducing()
    assert sender.streams()[0].done == 2 * frames.MAX_CHUNK
    assert len(out.value()) < 4 * frames.MAX_CHUNK
    assert done == []


def test_receiver_cancel_stops_sender():
    server, srec, client, crec, pump = pair()
    server._on_stream_start = lambda sid, total: None  # refuse
    failures = []
    client.send_stream(b"q" * (1024 * 1024)).addErrback(failures.append)
    pump.flush()
    assert failures and failures[0].check(StreamAborted)
    assert server.streams() == [] and client.streams() == []
    assert srec.violations == [] and crec.violations == []


def test_connection_lost_fails_streams():
    sender, _ = make()
    out = StringTransport()
    sender.makeConnection(out)
    failures = []
    sender.send_stream(b"z" * 200_000).addErrback(failures.append)
    sender.connectionLost()
    assert failures[0].check(StreamAborted)


HELLO = encode_hello()
START = encode_frame(FrameType.STREAM_START, 1, frames.STREAM_TOTAL.pack(3))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"XXXX\x00\x01", "bad-magic"),
        (b"XXXX", "bad-magic"),
        (b"BDTF\x00\x09", "bad-version"),
        (b"BDTF\x00\x01" + b"\x00" * 9, "bad-version"),  # version 1 had no nonce: refused at once
        (HELLO + frames.HEADER.pack(FrameType.AUTH, 0, frames.MAX_AUTH + 1), "oversized-frame"),
        (HELLO + b"\x63" + b"\x00" * 8, "unknown-type"),
        (HELLO + frames.HEADER.pack(FrameType.MESSAGE, 0, frames.MAX_MESSAGE + 1), "oversized-frame"),
        (HELLO + frames.HEADER.pack(FrameType.STREAM_CHUNK, 1, frames.MAX_CHUNK + 1), "oversized-frame"),
        (HELLO + encode_frame(FrameType.STREAM_CHUNK, 7, b"a"), "unknown-stream"),
        (HELLO + encode_frame(FrameType.STREAM_END, 7), "unknown-stream"),
        (HELLO + START + encode_frame(FrameType.STREAM_CHUNK, 1, b"abcd"), "stream-overrun"),
        (HELLO + START + encode_frame(FrameType.STREAM_END, 1), "stream-underrun"),
        (HELLO + START + START, "duplicate-stream"),
        (HELLO + encode_frame(FrameType.STREAM_START, 1, frames.STREAM_TOTAL.pack(2**40)), "stream-too-large"),
        (HELLO + encode_frame(FrameType.STREAM_START, 1, b"\x00"), "bad-stream-start"),
        (HELLO + START + encode_frame(FrameType.STREAM_CHUNK, 1), "empty-chunk"),
        (HELLO + encode_frame(FrameType.STREAM_ABORT, 1, b"\x07"), "bad-abort"),
    ],
)
def test_violations_drop_connection(data, reason):
    proto, rec = make()
    out = StringTransport()
    proto.makeConnection(out)
    proto.dataReceived(data)
    assert rec.violations == [reason]
    assert proto.stats.violations == 1
    assert out.disconnecting
    proto.dataReceived(HELLO + encode_frame(FrameType.MESSAGE, 0, b"late"))
    assert rec.messages == []


def test_too_many_streams():
    proto, rec = make(max_incoming_streams=2)
    proto.makeConnection(StringTransport())
    data = HELLO + b"".join(encode_frame(FrameType.STREAM_START, i, frames.STREAM_TOTAL.pack(1)) for i in range(3))
    proto.dataReceived(data)
    assert rec.violations == ["too-many-streams"]


def test_idle_timeout_and_keepalive():
    clock = task.Clock()
    proto, _ = make(clock, idle_timeout=10, keepalive=4)
    out = StringTransport()
    proto.makeConnection(out)
    proto.dataReceived(HELLO)
    clock.advance(4)
    assert out.value().endswith(encode_frame(FrameType.PING))
    clock.advance(5)
    proto.dataReceived(encode_frame(FrameType.PONG))
    clock.advance(9)
    assert not out.disconnecting
    clock.advance(1)
    assert out.disconnecting
    proto.connectionLost()
    assert not clock.getDelayedCalls()


def test_ping_answered_with_pong():
    proto, _ = make(keepalive=None)
    out = StringTransport()
    proto.makeConnection(out)
    out.clear()
    proto.dataReceived(HELLO + encode_frame(FrameType.PING))
    assert out.value() == encode_frame(FrameType.PONG)


def _valid_stream() -> bytes:
    return (
        HELLO
        + encode_frame(FrameType.AUTH, 0, b"\x00\x01a\x00\x01bsig")
        + encode_frame(FrameType.MESSAGE, 0, b"m1")
        + START
        + encode_frame(FrameType.STREAM_CHUNK, 1, b"abc")
        + encode_frame(FrameType.STREAM_END, 1)
        + encode_frame(FrameType.PING)
    )


def _check_feed(data: bytes, split: int) -> None:
    proto, rec = make()
    out = StringTransport()
    proto.makeConnection(out)
    for i in range(0, len(data), max(split, 1)):
        proto.dataReceived(data[i : i + max(split, 1)])
        assert proto.decoder.buffered <= frames.MAX_BUFFER
    if rec.violations:
        assert out.disconnecting and len(rec.violations) == 1
    else:
        assert not out.disconnecting


@given(st.binary(max_size=2000), st.integers(1, 64))
def test_random_bytes_never_raise(data, split):
    _check_feed(data, split)
    _check_feed(HELLO + data, split)


@given(st.data(), st.integers(1, 64))
def test_mutated_valid_frames(data, split):
    raw = bytearray(_valid_stream())
    for _ in range(data.draw(st.integers(0, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    _check_feed(bytes(raw), split)


def test_unmutated_valid_stream_delivers():
    auths = []
    proto, rec = make(on_auth=auths.append)
    proto.makeConnection(StringTransport())
    proto.dataReceived(_valid_stream())
    assert rec.messages == [b"m1"] and bytes(rec.streams[1]) == b"abc" and rec.violations == []
    assert auths == [b"\x00\x01a\x00\x01bsig"]


def test_the_hello_carries_a_fresh_nonce_and_the_peers_is_reported():
    hellos = []
    proto, _ = make(on_hello=hellos.append)
    other, _ = make()
    out = StringTransport()
    proto.makeConnection(out)
    assert out.value() == encode_hello(proto.nonce) and len(proto.nonce) == frames.NONCE_SIZE
    assert proto.nonce != other.nonce
    nonce = b"n" * frames.NONCE_SIZE
    hello = encode_hello(nonce)
    proto.dataReceived(hello[:10])
    assert hellos == []
    proto.dataReceived(hello[10:] + encode_frame(FrameType.PING))
    assert hellos == [nonce] and proto.decoder.peer_nonce == nonce


def test_a_hello_nonce_has_a_fixed_size():
    with pytest.raises(ValueError):
        encode_hello(b"short")


def test_pause_reasons_stack_and_reading_resumes_only_when_all_are_gone():
    proto, _ = make()
    out = StringTransport()
    proto.makeConnection(out)
    proto.pause_reading("budget")
    proto.pause_reading("throttle")
    proto.resume_reading("throttle")
    assert out.producerState == "paused"
    proto.resume_reading("budget")
    assert out.producerState == "producing" and proto.reading_paused == frozenset()
