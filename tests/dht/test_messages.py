from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitdust.dht import messages
from bitdust.dht.errors import MessageError
from bitdust.dht.messages import Message

SENDER = b"s" * 20
RPC = b"r" * 8


def request(method: str, args: dict) -> Message:
    return Message(
        kind="q", layer=3, rpc_id=RPC, sender=SENDER, attached=True, idurl="http://h/a.xml", method=method, args=args
    )


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("ping", {}),
        ("find_node", {"n": b"t" * 20}),
        ("find_value", {"k": "alice:0"}),
        ("store", {"k": "alice:0", "v": b"{}", "t": "skip_validation", "ttl": 60, "p": b"p" * 20}),
    ],
)
def test_requests_round_trip(method: str, args: dict) -> None:
    message = request(method, args)
    assert messages.decode(messages.encode(message)) == message


def test_answers_and_errors_round_trip() -> None:
    answer = Message(kind="r", layer=0, rpc_id=RPC, sender=SENDER, result={"c": [[b"x" * 20, "10.0.0.1", 14441]]})
    assert messages.decode(messages.encode(answer)) == answer
    error = Message(kind="e", layer=0, rpc_id=RPC, sender=SENDER, error="record:key", detail="why")
    assert messages.decode(messages.encode(error)) == error


def raw(**fields) -> bytes:
    body = {"v": 1, "y": "q", "l": 0, "id": RPC, "s": SENDER, "at": False, "m": "ping", "a": {}}
    body.update(fields)
    return msgpack.packb({k: v for k, v in body.items() if v is not None}, use_bin_type=True)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        b"not msgpack at all",
        msgpack.packb([1, 2, 3]),
        raw(v=2),
        raw(y="x"),
        raw(l=-1),
        raw(l=256),
        raw(id=b"short"),
        raw(s=b"x" * 19),
        raw(at="yes"),
        raw(m="delete_everything"),
        raw(a=[]),
        raw(m="find_node", a={"n": b"short"}),
        raw(m="find_value", a={"k": ""}),
        raw(
            m="store", a={"k": "a", "v": b"x" * (messages.MAX_VALUE + 1), "t": "skip_validation", "ttl": 5, "p": SENDER}
        ),
        raw(m="store", a={"k": "a", "v": b"x", "t": "skip_validation", "ttl": 0, "p": SENDER}),
        raw(i="x" * 300),
        b"\x00" * (messages.MAX_DATAGRAM + 1),
    ],
)
def test_malformed_datagrams_are_message_errors(data: bytes) -> None:
    with pytest.raises(MessageError):
        messages.decode(data)


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_message_error(data: bytes) -> None:
    try:
        messages.decode(data)
    except MessageError:
        pass


@pytest.mark.parametrize(
    "contacts",
    [
        "nope",
        [[b"x" * 20, "example.com", 1]],
        [[b"x" * 20, "10.0.0.1", 0]],
        [[b"x" * 19, "10.0.0.1", 1]],
        [[b"x" * 20, "10.0.0.1"]],
        [[b"x" * 20, "10.0.0.1", 1]] * (messages.MAX_CONTACTS + 1),
    ],
)
def test_bad_contact_lists_are_refused(contacts: object) -> None:
    with pytest.raises(MessageError):
        messages.parse_contacts(contacts)


def test_an_oversized_message_is_not_encoded() -> None:
    answer = Message(kind="r", layer=0, rpc_id=RPC, sender=SENDER, result={"v": b"x" * messages.MAX_DATAGRAM})
    with pytest.raises(MessageError):
        messages.encode(answer)
