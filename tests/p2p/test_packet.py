"""The packet wire format, its limits and its signature."""

from __future__ import annotations

import attrs
import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.p2p import commands
from bitdust.p2p.packet import (
    Limits,
    Packet,
    PacketError,
    decode,
    encode,
    sign,
    signing_bytes,
    verify,
)
from tests.p2p.conftest import ALICE, ALICE2, BOB

NOW = 1_700_000_000.0


def make(**fields: object) -> Packet:
    values: dict[str, object] = dict(
        command=commands.DATA,
        owner_id=ALICE,
        creator_id=ALICE,
        packet_id="0/0/1/F1/Data-0",
        date=NOW,
        payload=b"hello",
        remote_id=BOB,
        key_id="master$alice@h.net",
        signature=b"",
    )
    values.update(fields)
    return Packet(**values)


def wire(*fields: object) -> bytes:
    return msgpack.packb(list(fields), use_bin_type=True)


GOOD = [2, "Data", ALICE, ALICE, "p1", NOW, b"x", BOB, "", 0, b""]


def test_commands() -> None:
    assert len(commands.COMMANDS) == 17
    assert commands.AUDIT_KEY in commands.COMMANDS


def test_round_trip() -> None:
    packet = make(signature=b"s" * 128, creator_revision=2**63 - 1)
    assert decode(encode(packet)) == packet
    assert decode(wire(*GOOD)).packet_id == "p1"
    assert decode(wire(*GOOD[:-2], 41, b"")).creator_revision == 41


def test_wire_format_is_version_2() -> None:
    fields = msgpack.unpackb(encode(make(creator_revision=5)))
    assert fields[0] == 2 and fields[-2] == 5 and len(fields) == 11


def test_int_date_is_converted_in_code() -> None:
    assert make(date=5).date == 5.0


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\xc1",
        wire(*GOOD) + b"\x00",
        wire(*GOOD)[:-1],
        msgpack.packb({"v": 1}),
        msgpack.packb([1, msgpack.ExtType(1, b"x")]),
        msgpack.packb("just a string"),
        msgpack.packb([]),
        wire(1, *GOOD[1:]),
        wire(1, *GOOD[1:-2], GOOD[-1]),  # a version 1 packet (no creator revision)
        wire(3, *GOOD[1:]),
        wire(True, *GOOD[1:]),
        wire(2.0, *GOOD[1:]),
        wire(*GOOD[:-1]),
        wire(*GOOD, b""),
        wire(2, "Nope", *GOOD[2:]),
        wire(2, "Data", "alice", *GOOD[3:]),
        wire(2, "Data", ALICE, "http://H.net/alice.xml", *GOOD[4:]),
        wire(2, "Data", ALICE, ALICE, "", *GOOD[5:]),
        wire(2, "Data", ALICE, ALICE, " p ", *GOOD[5:]),
        wire(2, "Data", ALICE, ALICE, "p", 5, *GOOD[6:]),
        wire(2, "Data", ALICE, ALICE, "p", float("nan"), *GOOD[6:]),
        wire(2, "Data", ALICE, ALICE, "p", -1.0, *GOOD[6:]),
        wire(2, "Data", ALICE, ALICE, "p", NOW, "text", *GOOD[7:]),
        wire(2, "Data", ALICE, ALICE, "p", NOW, b"", BOB, "bad key id", 0, b""),
        wire(2, "Data", ALICE, ALICE, "p", NOW, b"", BOB, "", 0, "text"),
        wire(2, "Data", ALICE, ALICE, [[["p"]]], NOW, b"", BOB, "", 0, b""),
        wire(2, "Data", ALICE, ALICE, "p" * 129, NOW, b"", BOB, "", 0, b""),
        wire(2, "Data", ALICE, ALICE, "p", NOW, b"", BOB, "", 0, b"s" * 1025),
        wire(*GOOD[:-2], -1, b""),
        wire(*GOOD[:-2], 2**63, b""),
        wire(*GOOD[:-2], 1.0, b""),
        wire(*GOOD[:-2], True, b""),
        wire(*GOOD[:-2], "1", b""),
        b"\x91" * 5000,
    ],
)
def test_malformed_is_refused(blob: bytes) -> None:
    with pytest.raises(PacketError) as info:
        decode(blob)
    assert info.value.reason


def test_not_bytes_is_refused() -> None:
    with pytest.raises(PacketError):
        decode("text")  # type: ignore[arg-type]


def test_size_limits() -> None:
    limits = Limits(max_payload=100)
    assert decode(encode(make(payload=b"x" * 100), limits), limits)
    with pytest.raises(PacketError):
        encode(make(payload=b"x" * 101), limits)
    with pytest.raises(PacketError):
        decode(encode(make(payload=b"x" * 101)), limits)
    with pytest.raises(PacketError, match="too large"):
        decode(b"\x00" * (limits.max_packet + 1), limits)


def test_construction_validates() -> None:
    for revision in (-1, 2**63, True, 1.0, "3"):
        with pytest.raises(PacketError, match="creator_revision"):
            make(creator_revision=revision)
    with pytest.raises(PacketError):
        make(command="Unknown")
    with pytest.raises(PacketError):
        make(remote_id="http://h.net:80/bob.xml")


def test_sign_and_verify(alice_key, alice) -> None:
    packet = sign(make(), alice_key)
    verify(packet, alice, now=NOW)
    verify(decode(encode(packet)), alice, now=NOW + 600)
    verify(attrs.evolve(sign(make(creator_id=ALICE2), alice_key)), alice, now=NOW)


TAMPERS = {
    "command": commands.ACK,
    "owner_id": BOB,
    "creator_id": ALICE2,
    "packet_id": "other",
    "date": NOW + 1,
    "payload": b"hellO",
    "remote_id": ALICE,
    "key_id": "",
    "creator_revision": 7,
    "signature": b"\x00" * 128,
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_tampered_field_fails(alice_key, alice, field: str) -> None:
    packet = attrs.evolve(sign(make(), alice_key), **{field: TAMPERS[field]})
    with pytest.raises(PacketError):
        verify(packet, alice, now=NOW)


def test_signing_bytes_cover_every_field_but_signature() -> None:
    base = signing_bytes(make())
    for field, value in TAMPERS.items():
        changed = signing_bytes(attrs.evolve(make(), **{field: value}))
        assert (changed == base) == (field == "signature")


def test_wrong_key_unsigned_and_public_key(bob_key, alice_key, alice) -> None:
    with pytest.raises(PacketError, match="bad packet signature"):
        verify(sign(make(), bob_key), alice, now=NOW)
    with pytest.raises(PacketError, match="not signed"):
        verify(make(), alice, now=NOW)
    with pytest.raises(PacketError):
        sign(make(), alice_key.public_key())


def test_creator_not_in_sources(alice_key, alice) -> None:
    packet = sign(make(creator_id="http://h.net/mallory.xml"), alice_key)
    with pytest.raises(PacketError, match="not a source"):
        verify(packet, alice, now=NOW)


@pytest.mark.parametrize("offset", [601.0, 1e9])
def test_date_too_old(alice_key, alice, offset: float) -> None:
    packet = sign(make(), alice_key)
    with pytest.raises(PacketError, match="seconds older than now"):
        verify(packet, alice, now=NOW + offset)
    verify(packet, alice, now=NOW + offset, skew=offset)


@pytest.mark.parametrize("offset", [61.0, 601.0, 1e9])
def test_date_too_far_ahead(alice_key, alice, offset: float) -> None:
    """The future side of the window is short (60 s by default), whatever the past side allows."""
    packet = sign(make(), alice_key)
    with pytest.raises(PacketError, match="seconds ahead of now"):
        verify(packet, alice, now=NOW - offset, skew=2e9)
    verify(packet, alice, now=NOW - offset, future_skew=offset)


def test_date_window_edges_are_inclusive(alice_key, alice) -> None:
    packet = sign(make(), alice_key)
    verify(packet, alice, now=NOW + 600)
    verify(packet, alice, now=NOW - 60)


_ids = st.sampled_from([ALICE, ALICE2, BOB, "http://1.2.3.4:99/x_y-z.xml"])
packets = st.builds(
    Packet,
    command=st.sampled_from(sorted(commands.COMMANDS)),
    owner_id=_ids,
    creator_id=_ids,
    packet_id=st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=128),
    date=st.floats(min_value=0, max_value=2e10),
    payload=st.binary(max_size=300),
    remote_id=_ids,
    key_id=st.sampled_from(["", "master$alice@h.net", "k-1$bob@h.net_8084"]),
    creator_revision=st.integers(0, 2**63 - 1),
    signature=st.binary(max_size=1024),
)


@given(packets)
def test_hypothesis_round_trip(packet: Packet) -> None:
    assert decode(encode(packet)) == packet


@given(st.binary(max_size=2000))
def test_hypothesis_random_bytes(blob: bytes) -> None:
    try:
        decode(blob)
    except PacketError:
        pass


_mutation = st.tuples(st.sampled_from(["flip", "insert", "delete"]), st.integers(0, 10_000), st.integers(0, 255))


@given(packets, st.lists(_mutation, min_size=1, max_size=8))
def test_hypothesis_mutations(packet: Packet, mutations: list[tuple[str, int, int]]) -> None:
    blob = bytearray(encode(packet))
    for kind, position, value in mutations:
        at = position % (len(blob) + 1)
        if kind == "insert":
            blob.insert(at, value)
        elif blob and kind == "flip":
            blob[at % len(blob)] ^= value or 1
        elif blob:
            del blob[at % len(blob)]
    try:
        decode(bytes(blob))
    except PacketError:
        pass
