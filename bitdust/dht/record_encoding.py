"""A record's stored form (strict canonical JSON) and the bytes its signatures are over.

Only strict JSON is stored or signed (no NaN, no infinities, no lone surrogates), so every record
a node decodes can be encoded again: for an API answer, a peer, or the database. A signature is
over :func:`signing_bytes`: the tag ``bitdust-dht-record/1``, the key and the record without its
signature fields, as canonical JSON; the key is signed too, so a signed record cannot be replayed
under another key.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from bitdust.dht.errors import RecordError
from bitdust.dht.messages import MAX_VALUE
from bitdust.dht.record_types import RECORD_TYPES, record_type
from bitdust.main import strict_json

if TYPE_CHECKING:
    from bitdust.crypt.rsa_key import RsaKey

SIGNING_TAG = "bitdust-dht-record/1"


def canonical_json(data: object) -> bytes:
    """Sorted, compact, strict JSON; NotStrictJson for NaN, infinities or lone surrogates."""
    return strict_json.dumps(data, canonical=True)


def encode_record(record: dict[str, Any]) -> bytes:
    """The stored form of ``record``; RecordError (rule ``json`` or ``size``) when it cannot be.

    Only strict JSON is stored: a NaN that Python would write is a value no other node, and no
    API client, could read back.
    """
    try:
        data = canonical_json(record)
    except strict_json.NotStrictJson as exc:
        raise RecordError(str(record.get("type")), "json", str(exc)) from None
    if len(data) > MAX_VALUE:
        raise RecordError(str(record.get("type")), "size", f"{len(data)} bytes, at most {MAX_VALUE}")
    return data


def decode_record(data: bytes, record_type_name: str) -> dict[str, Any]:
    """A stored value back to its record; RecordError(rule ``json``) when it is not a JSON object.

    The parse is strict (no NaN, no infinities, no lone surrogates), so every record this returns
    can be encoded again: for an API answer, a peer, or the database.
    """
    try:
        record = strict_json.loads(data)
    except strict_json.NotStrictJson as exc:
        raise RecordError(record_type_name, "json", f"the value is not strict UTF-8 JSON: {exc}") from None
    if not isinstance(record, dict):
        raise RecordError(record_type_name, "json", "the value is not a JSON object")
    return record


def value_problem(data: bytes, record_type_name: str) -> str | None:
    """None when a stored value decodes to a record, else why it does not (for read paths)."""
    try:
        decode_record(data, record_type_name)
    except RecordError as exc:
        return exc.message
    return None


def signing_bytes(key: str, record: dict[str, Any]) -> bytes:
    """What a record's signatures are over: the tag, the key, the record without its signature fields.

    Fields whose items carry their own signatures (a nickname's ``taken`` claims) are left out too:
    so a claim copied from another user's record is checked against that user's own signature.
    """
    type_name = record.get("type")
    kind = RECORD_TYPES.get(type_name) if isinstance(type_name, str) else None
    left_out = {"signature"} | (set(kind.signature_fields) | set(kind.unsigned) if kind is not None else set())
    unsigned = {name: value for name, value in record.items() if name not in left_out}
    return canonical_json([SIGNING_TAG, key, unsigned])


def sign_record(key: str, record: dict[str, Any], rsa_key: RsaKey, field_name: str = "signature") -> dict[str, Any]:
    """A copy of ``record`` with ``field_name`` (default ``signature``) signed by ``rsa_key`` (private).

    A message broker record gets ``signature`` from the group owner and ``broker_signature``
    from the broker, both over the same :func:`signing_bytes`.
    """
    signature = rsa_key.sign(signing_bytes(key, record))
    return dict(record, **{field_name: base64.b64encode(signature).decode("ascii")})


def nickname_claim(record: dict[str, Any]) -> dict[str, Any]:
    """The claim a later user of the same nickname copies into ``taken`` from this record."""
    return {"idurl": record["idurl"], "timestamp": record["timestamp"], "signature": record["signature"]}


def make_record(record_type_name: str, value: object) -> dict[str, Any]:
    """The record the API stores for ``value``: a JSON object gets ``type``; other JSON is wrapped.

    A typed record must be an object already; ``skip_validation`` accepts any JSON value and
    stores a non-object as ``{"type": "skip_validation", "data": value}``.
    """
    kind = record_type(record_type_name)
    if isinstance(value, dict):
        declared = value.get("type", kind.name)
        if declared != kind.name:
            raise RecordError(kind.name, "type", f"the value says type {declared!r}")
        return dict(value, type=kind.name)
    if kind.open_fields:
        return {"type": kind.name, "data": value}
    raise RecordError(kind.name, "fields", "the value must be a JSON object")
