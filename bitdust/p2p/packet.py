"""The signed packet: every message between two nodes, its wire format and its signature.

Wire format, version 2: one msgpack array ``[2, command, owner_id, creator_id, packet_id, date,
payload, remote_id, key_id, creator_revision, signature]``. An array (not a map) because the field
set is fixed and positional decoding leaves nothing to normalize; the version comes first so a
future format can be recognized before anything else is interpreted. Version 2 added
``creator_revision``, the revision of the identity its creator had when signing: a receiver that
holds an older revision learns from any verified packet that it should fetch the newer one (see
the gateway). Version 1 packets are refused: their senders could not tell us that.

Packets come from strangers, so :func:`decode` is the one gate: it bounds memory before parsing
(total size, and msgpack's own per-object limits), refuses maps, extension types, nesting, trailing
bytes and every field of the wrong type, and re-validates the result through :class:`Packet`, so a
packet built in code and a packet read from the wire obey the same rules. Anything wrong is a
:class:`PacketError`; no other exception escapes.

The signature covers :func:`signing_bytes`, a canonical msgpack array of every field but the
signature (the payload by its SHA-256), tagged ``bitdust-packet/2``: the wire encoding is never
signed, so a re-encoding can not break a signature, and the tag keeps packet signatures from ever
being valid for anything else the same key signs (identities sign JSON tagged ``bitdust-identity/1``).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, NoReturn

import attrs
import msgpack

from bitdust.crypt.key_id import split_key_id
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.errors import InvalidInput
from bitdust.p2p.commands import COMMANDS
from bitdust.p2p.errors import PacketError
from bitdust.userid.identity import MAX_REVISION, Identity
from bitdust.userid.idurl import IdUrl

__all__ = [
    "DEFAULT_LIMITS",
    "FORMAT_VERSION",
    "SIGNING_TAG",
    "Limits",
    "Packet",
    "PacketError",
    "check_limits",
    "decode",
    "encode",
    "sign",
    "signing_bytes",
    "verify",
]

FORMAT_VERSION = 2
"""First element of every encoded packet."""

SIGNING_TAG = "bitdust-packet/2"
"""First element of the signed bytes (domain separation from other signed documents)."""

_WIRE_FIELDS = 11
_UNPACK_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, msgpack.exceptions.UnpackException)


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{attribute.name} must be a positive number, got {value!r}")


@attrs.frozen(kw_only=True)
class Limits:
    """Every size and time bound of the packet layer, in one place so a test or a config can tune them.

    Sizes are checked before anything is allocated for them: a 16 MiB payload is the biggest piece a
    node ever has to hold for one packet, and everything else together fits in ``max_headers``.

    The date window is lopsided on purpose. ``max_skew`` is how old a packet may be (a slow link, a
    clock behind ours). ``max_future_skew`` is how far ahead of our clock it may be dated, and stays
    short: a replay guard must remember a packet until it is too old to verify, so every second of
    future skew is a second longer a flooder's packets pin memory, and a date far ahead buys an
    honest sender nothing.
    """

    max_payload: int = attrs.field(default=16 * 1024 * 1024, validator=_positive)
    max_headers: int = attrs.field(default=8 * 1024, validator=_positive)
    max_id: int = attrs.field(default=256, validator=_positive)
    max_packet_id: int = attrs.field(default=128, validator=_positive)
    max_key_id: int = attrs.field(default=256, validator=_positive)
    max_signature: int = attrs.field(default=1024, validator=_positive)
    max_skew: float = attrs.field(default=600.0, validator=_positive)
    max_future_skew: float = attrs.field(default=60.0, validator=_positive)

    @property
    def max_packet(self) -> int:
        """Largest encoded packet accepted (bytes)."""
        return self.max_payload + self.max_headers


DEFAULT_LIMITS = Limits()


def _to_date(value: object) -> object:
    # Code may pass an int timestamp; the wire and the signature always carry a float.
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _check_idurl(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise PacketError(f"{what} must be a string, not {type(value).__name__}")
    try:
        parsed = IdUrl.parse(value)
    except InvalidInput as exc:
        raise PacketError(f"{what}: {exc.message}") from None
    if parsed.url != value:
        # One spelling per user, or the same sender could hide behind several (and signatures differ).
        raise PacketError(f"{what} {value!r} is not in canonical form {parsed.url!r}")


@attrs.frozen(kw_only=True)
class Packet:
    """One packet; construction checks every field's type and form (PacketError otherwise).

    Sizes are not checked here but by :func:`check_limits`, because they depend on the ``Limits`` in
    force; :func:`encode` and :func:`decode` apply both.
    """

    command: str
    owner_id: str
    creator_id: str
    packet_id: str
    date: float = attrs.field(converter=_to_date)
    payload: bytes = b""
    remote_id: str
    key_id: str = ""
    #: the revision of the creator's identity when it signed; signed like every other field
    creator_revision: int = 0
    signature: bytes = b""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.command, str) or self.command not in COMMANDS:
            raise PacketError(f"unknown command {self.command!r}")
        _check_idurl(self.owner_id, "owner_id")
        _check_idurl(self.creator_id, "creator_id")
        _check_idurl(self.remote_id, "remote_id")
        if not isinstance(self.packet_id, str) or not self.packet_id:
            raise PacketError("packet_id must be a non-empty string")
        if not self.packet_id.isprintable() or self.packet_id != self.packet_id.strip():
            raise PacketError("packet_id must be printable text without leading or trailing whitespace")
        if not isinstance(self.date, float) or not math.isfinite(self.date) or self.date < 0:
            raise PacketError(f"date must be a finite, non-negative number of seconds, got {self.date!r}")
        if not isinstance(self.payload, bytes):
            raise PacketError(f"payload must be bytes, not {type(self.payload).__name__}")
        if not isinstance(self.key_id, str):
            raise PacketError(f"key_id must be a string, not {type(self.key_id).__name__}")
        if self.key_id:
            try:
                split_key_id(self.key_id)
            except InvalidInput as exc:
                raise PacketError(f"key_id: {exc.message}") from None
        if type(self.creator_revision) is not int or not 0 <= self.creator_revision <= MAX_REVISION:
            raise PacketError(
                f"creator_revision must be an integer from 0 to {MAX_REVISION}, got {self.creator_revision!r}"
            )
        if not isinstance(self.signature, bytes):
            raise PacketError(f"signature must be bytes, not {type(self.signature).__name__}")


def check_limits(packet: Packet, limits: Limits = DEFAULT_LIMITS) -> None:
    """PacketError if any field of ``packet`` is larger than ``limits`` allow."""
    for what, value, bound in (
        ("owner_id", packet.owner_id, limits.max_id),
        ("creator_id", packet.creator_id, limits.max_id),
        ("remote_id", packet.remote_id, limits.max_id),
        ("packet_id", packet.packet_id, limits.max_packet_id),
        ("key_id", packet.key_id, limits.max_key_id),
        ("payload", packet.payload, limits.max_payload),
        ("signature", packet.signature, limits.max_signature),
    ):
        if len(value) > bound:
            raise PacketError(f"{what} is too long: {len(value)}, at most {bound}")


_PAYLOAD = 5  # position of the payload in _fields


def _fields(packet: Packet) -> list[object]:
    return [
        packet.command,
        packet.owner_id,
        packet.creator_id,
        packet.packet_id,
        packet.date,
        packet.payload,
        packet.remote_id,
        packet.key_id,
        packet.creator_revision,
    ]


def encode(packet: Packet, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The wire bytes of ``packet``; PacketError if it breaks ``limits`` (we never send what we would refuse)."""
    check_limits(packet, limits)
    blob = msgpack.packb([FORMAT_VERSION, *_fields(packet), packet.signature], use_bin_type=True)
    if len(blob) > limits.max_packet:
        raise PacketError(f"packet is too large: {len(blob)} bytes, at most {limits.max_packet}")
    return blob


def _refuse_ext(code: int, data: bytes) -> NoReturn:
    raise ValueError(f"msgpack extension type {code} is not allowed")


def decode(blob: bytes, limits: Limits = DEFAULT_LIMITS) -> Packet:
    """Parse and validate wire bytes; PacketError (only) with the reason for anything refused."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise PacketError(f"a packet must be bytes, not {type(blob).__name__}")
    data = bytes(blob)
    if len(data) > limits.max_packet:
        raise PacketError(f"packet is too large: {len(data)} bytes, at most {limits.max_packet}")
    try:
        fields = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            max_bin_len=max(limits.max_payload, limits.max_signature),
            max_str_len=limits.max_headers,
            max_array_len=_WIRE_FIELDS,
            max_map_len=0,
            max_ext_len=0,
            ext_hook=_refuse_ext,
        )
    except _UNPACK_ERRORS as exc:
        raise PacketError(f"not a valid msgpack packet: {exc}") from None
    if not isinstance(fields, list) or not fields:
        raise PacketError("not a packet: expected a msgpack array")
    version = fields[0]
    if type(version) is not int or version != FORMAT_VERSION:
        raise PacketError(f"unsupported packet format version {version!r}")
    if len(fields) != _WIRE_FIELDS:
        raise PacketError(f"a version {FORMAT_VERSION} packet has {_WIRE_FIELDS} fields, got {len(fields)}")
    _, command, owner_id, creator_id, packet_id, date, payload, remote_id, key_id, creator_revision, signature = fields
    if type(date) is not float:
        # The wire is strict where code is lenient: one encoding per packet.
        raise PacketError(f"date must be a float, not {type(date).__name__}")
    packet = Packet(
        command=command,
        owner_id=owner_id,
        creator_id=creator_id,
        packet_id=packet_id,
        date=date,
        payload=payload,
        remote_id=remote_id,
        key_id=key_id,
        creator_revision=creator_revision,
        signature=signature,
    )
    check_limits(packet, limits)
    return packet


def signing_bytes(packet: Packet) -> bytes:
    """What the creator signs: every field but the signature, as a tagged msgpack array.

    The payload enters as its SHA-256, hashed once straight from the packet's own bytes: copying a
    16 MiB payload into the signed message only for RSA to hash it again doubled the cost of
    signing and verifying big packets.
    """
    fields = _fields(packet)
    fields[_PAYLOAD] = hashlib.sha256(packet.payload).digest()
    return msgpack.packb([SIGNING_TAG, *fields], use_bin_type=True)


def sign(packet: Packet, rsa_key: RsaKey) -> Packet:
    """A copy of ``packet`` signed by ``rsa_key`` (the creator's private key)."""
    if not rsa_key.has_private:
        raise PacketError("signing a packet needs a private key")
    return attrs.evolve(packet, signature=rsa_key.sign(signing_bytes(packet)))


def verify(
    packet: Packet,
    creator_identity: Identity,
    *,
    now: float,
    skew: float = DEFAULT_LIMITS.max_skew,
    future_skew: float = DEFAULT_LIMITS.max_future_skew,
) -> None:
    """PacketError unless ``creator_identity`` really created ``packet``, dated from ``skew`` seconds
    before ``now`` to ``future_skew`` seconds after it.

    Cheap checks run first, so a flood of stale or misaddressed packets costs no RSA operations.
    The date window is what bounds how long a :class:`~bitdust.p2p.replay.ReplayGuard` must remember.
    """
    sources = {source.url for source in creator_identity.sources}
    if packet.creator_id not in sources:
        raise PacketError(f"creator {packet.creator_id} is not a source of the identity {creator_identity.idurl}")
    if packet.date < now - skew:
        raise PacketError(f"packet date {packet.date} is more than {skew} seconds older than now ({now})")
    if packet.date > now + future_skew:
        raise PacketError(f"packet date {packet.date} is more than {future_skew} seconds ahead of now ({now})")
    if not packet.signature:
        raise PacketError("packet is not signed")
    if not creator_identity.public_rsa().verify(packet.signature, signing_bytes(packet)):
        raise PacketError("bad packet signature")
