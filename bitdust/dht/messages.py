"""The wire format: one msgpack map per UDP datagram, versioned and checked against hard limits.

Every datagram comes from an untrusted address, so :func:`decode` refuses anything that is not
exactly a message of this protocol: unknown version, unknown kind or method, wrong types, ids of
the wrong length, keys, values or contact lists over their limits. The short field names keep a
``find_node`` answer with 20 contacts well under the datagram limit::

    {"v": 1, "y": "q"|"r"|"e", "l": layer, "id": rpc id (8 bytes), "s": sender id (20 bytes),
     "at": sender attached to the layer, "i": sender's IDURL or "",
     "tk": the address token: in an answer, the one its destination should bring back; in a
           request, the one its destination handed out (see bitdust.dht.addresses),
     "m": method, "a": {arguments}          (requests)
     "r": {result}                          (responses)
     "e": error code, "d": detail           (errors)}
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TypedDict, TypeGuard

import attrs
import msgpack

from bitdust.dht.errors import MessageError
from bitdust.dht.node_id import ID_BYTES, MAX_KEY_LENGTH

VERSION = 1
MAX_DATAGRAM = 16 * 1024
MAX_VALUE = 8 * 1024
MAX_CONTACTS = 20
MAX_TTL = 30 * 24 * 3600
MAX_LAYER = 255
MAX_IDURL = 256
MAX_RECORD_TYPE = 32
MAX_DETAIL = 512
MAX_TOKEN = 32
#: JSON nesting a value may have: enough for any record, far from the parser's recursion limit
MAX_VALUE_DEPTH = 32
RPC_ID_BYTES = 8
KINDS = ("q", "r", "e")
METHODS = ("ping", "store", "find_node", "find_value")

#: A contact as a find_node/find_value answer carries it: ``[node id, host, port]``.
WireContact = list[bytes | str | int]
#: The ``r`` map of an answer. It comes from an untrusted peer, so its values are ``object`` until
#: :func:`check_value_fields` or :func:`parse_contacts` has checked them.
Answer = dict[str, object]


class RequestArgs(TypedDict, total=False):
    """The ``a`` map of a request, after :func:`decode` has checked it for its method.

    ``find_node`` carries ``n``; ``find_value`` ``k``; ``store`` ``k``, ``v``, ``t``, ``ttl`` and
    ``p``; ``ping`` nothing.
    """

    n: bytes  # target node id
    k: str  # key
    v: bytes  # value
    t: str  # record type
    ttl: int  # seconds
    p: bytes  # publisher node id


class _Common(TypedDict):
    """The fields every decoded message has, whatever its kind."""

    layer: int
    rpc_id: bytes
    sender: bytes
    attached: bool
    idurl: str
    token: bytes


@attrs.frozen
class Contact:
    """Another node as a routing table knows it: id and UDP address."""

    node_id: bytes
    host: str
    port: int

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def to_wire(self) -> WireContact:
        return [self.node_id, self.host, self.port]


@attrs.frozen
class Message:
    kind: str
    layer: int
    rpc_id: bytes
    sender: bytes
    attached: bool = False
    idurl: str = ""
    method: str = ""
    args: RequestArgs = attrs.field(factory=lambda: RequestArgs())
    result: Answer = attrs.field(factory=dict)
    error: str = ""
    detail: str = ""
    token: bytes = b""


def encode(message: Message) -> bytes:
    """The datagram of ``message``; MessageError if it would exceed :data:`MAX_DATAGRAM`."""
    body: dict[str, object] = {
        "v": VERSION,
        "y": message.kind,
        "l": message.layer,
        "id": message.rpc_id,
        "s": message.sender,
        "at": message.attached,
    }
    if message.idurl:
        body["i"] = message.idurl
    if message.token:
        body["tk"] = message.token
    if message.kind == "q":
        body["m"] = message.method
        body["a"] = message.args
    elif message.kind == "r":
        body["r"] = message.result
    else:
        body["e"] = message.error
        body["d"] = message.detail[:MAX_DETAIL]
    data = msgpack.packb(body, use_bin_type=True)
    if len(data) > MAX_DATAGRAM:
        raise MessageError(f"message of {len(data)} bytes exceeds the datagram limit {MAX_DATAGRAM}")
    return data


def decode(data: bytes) -> Message:
    """Parse and check one datagram (MessageError says what is wrong)."""
    if len(data) > MAX_DATAGRAM:
        raise MessageError(f"datagram of {len(data)} bytes exceeds {MAX_DATAGRAM}")
    try:
        body = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            max_bin_len=MAX_DATAGRAM,
            max_str_len=MAX_DATAGRAM,
            max_array_len=256,
            max_map_len=32,
            max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises many unrelated types for garbage input
        raise MessageError(f"not msgpack: {type(exc).__name__}") from None
    if not isinstance(body, dict):
        raise MessageError("a message is a map")
    if body.get("v") != VERSION:
        raise MessageError(f"unsupported version {body.get('v')!r}")
    kind = body.get("y")
    if kind not in KINDS:
        raise MessageError(f"unknown message kind {kind!r}")
    layer = body.get("l")
    if not _is_int(layer) or not 0 <= layer <= MAX_LAYER:
        raise MessageError("bad layer id")
    rpc_id = body.get("id")
    if not isinstance(rpc_id, bytes) or len(rpc_id) != RPC_ID_BYTES:
        raise MessageError("bad rpc id")
    sender = _node_id(body.get("s"), "sender id")
    attached = body.get("at", False)
    if not isinstance(attached, bool):
        raise MessageError("bad attached flag")
    idurl = body.get("i", "")
    if not isinstance(idurl, str) or len(idurl) > MAX_IDURL or not idurl.isprintable():
        raise MessageError("bad sender idurl")
    token = body.get("tk", b"")
    if not isinstance(token, bytes) or len(token) > MAX_TOKEN:
        raise MessageError("bad token")
    common: _Common = {
        "layer": layer,
        "rpc_id": rpc_id,
        "sender": sender,
        "attached": attached,
        "idurl": idurl,
        "token": token,
    }
    if kind == "q":
        method = body.get("m")
        if method not in METHODS:
            raise MessageError(f"unknown method {method!r}")
        args = body.get("a")
        if not isinstance(args, dict):
            raise MessageError("request arguments must be a map")
        return Message(kind="q", method=method, args=_check_args(method, args), **common)
    if kind == "r":
        result = body.get("r")
        if not isinstance(result, dict):
            raise MessageError("a result must be a map")
        return Message(kind="r", result=result, **common)
    error = body.get("e")
    detail = body.get("d", "")
    if not isinstance(error, str) or not 0 < len(error) <= 64 or not isinstance(detail, str):
        raise MessageError("bad error message")
    return Message(kind="e", error=error, detail=detail[:MAX_DETAIL], **common)


# -- arguments and results ------------------------------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _node_id(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != ID_BYTES:
        raise MessageError(f"bad {what}")
    return value


def check_key_field(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_KEY_LENGTH or not value.isprintable():
        raise MessageError("bad key")
    return value


def check_value_fields(args: Mapping[str, object]) -> tuple[bytes, str, int]:
    """``(value, record_type, ttl)`` of a store request or a find_value answer."""
    value = args.get("v")
    if not isinstance(value, bytes) or not 0 < len(value) <= MAX_VALUE:
        raise MessageError(f"bad value (at most {MAX_VALUE} bytes)")
    if nested_deeper_than(value):
        raise MessageError(f"bad value (JSON nested deeper than {MAX_VALUE_DEPTH} levels)")
    record_type = args.get("t")
    if not isinstance(record_type, str) or not 0 < len(record_type) <= MAX_RECORD_TYPE:
        raise MessageError("bad record type")
    ttl = args.get("ttl")
    if not _is_int(ttl) or not 0 < ttl <= MAX_TTL:
        raise MessageError("bad ttl")
    return value, record_type, ttl


def nested_deeper_than(value: bytes, limit: int = MAX_VALUE_DEPTH) -> bool:
    """Whether the arrays and objects of a JSON text nest more than ``limit`` levels deep.

    The JSON parser recurses once per level: a value nested thousands deep ends in a
    RecursionError, and one a few hundred deep in an error only some later encoder on a deeper
    stack hits; so such a value is refused before anything parses it. Brackets inside strings
    do not count; the text need not be valid JSON (the parser judges that afterwards).
    """
    if value.count(b"[") + value.count(b"{") <= limit:
        return False  # the usual case, decided without a loop in Python
    depth = 0
    in_string = escaped = False
    for byte in value:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def _check_args(method: str, args: Mapping[str, object]) -> RequestArgs:
    if method == "ping":
        return {}
    if method == "find_node":
        return {"n": _node_id(args.get("n"), "target id")}
    if method == "find_value":
        return {"k": check_key_field(args.get("k"))}
    value, record_type, ttl = check_value_fields(args)
    publisher = _node_id(args.get("p"), "publisher id")
    return {"k": check_key_field(args.get("k")), "v": value, "t": record_type, "ttl": ttl, "p": publisher}


def parse_contacts(value: object) -> list[Contact]:
    """Contacts of a find_node/find_value answer; MessageError if any entry is malformed.

    Hosts must be IP address literals: a lying node must not make us resolve names.
    """
    if not isinstance(value, list) or len(value) > MAX_CONTACTS:
        raise MessageError(f"contacts must be a list of at most {MAX_CONTACTS}")
    contacts = []
    for item in value:
        if not isinstance(item, list) or len(item) != 3:
            raise MessageError("a contact is [id, host, port]")
        node_id, host, port = item
        _node_id(node_id, "contact id")
        if not isinstance(host, str) or len(host) > 64:
            raise MessageError("bad contact host")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise MessageError("a contact host must be an IP address") from None
        if not _is_int(port) or not 0 < port < 65536:
            raise MessageError("bad contact port")
        contacts.append(Contact(node_id, host, port))
    return contacts
