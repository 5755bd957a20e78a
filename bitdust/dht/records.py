"""DHT records: JSON objects with a ``type``, and the one table of rules each type must follow.

A record that breaks a rule is refused when somebody asks us to store it and ignored when a
lookup returns it; :class:`~bitdust.dht.errors.RecordError` names the rule. Records that speak
for a user (a nickname, a customer's supplier list, a message broker, a relation) carry a
signature by that user's identity key over :func:`signing_bytes`: the tag
``bitdust-dht-record/1``, the key and the record without its signature, as canonical JSON. The
key is signed too, so a signed record cannot be replayed under another key.

Checking a signature needs the signer's public key, which may have to be fetched from an
identity server; :class:`RecordValidator` therefore answers with a Deferred.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet import defer

from bitdust.dht.errors import RecordError
from bitdust.dht.messages import MAX_VALUE
from bitdust.main import strict_json
from bitdust.main.errors import BadRequest
from bitdust.raid.eccmap import ECC_MAPS
from bitdust.userid.idurl import IdUrl

SIGNING_TAG = "bitdust-dht-record/1"
MAX_NICKNAME = 64
MAX_POSITION = 99
MAX_SIGNATURE = 1024
_NICKNAME_RE = re.compile(r"^[^\s:]{1,64}$")


# -- field checks: each returns an error text or None ----------------------------------------


def _text(max_length: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not 0 < len(value) <= max_length or not value.isprintable():
            return f"must be text of 1 to {max_length} printable characters"
        return None

    return check


def _integer(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be an integer from {low} to {high}"
        return None

    return check


def _idurl(value: Any) -> str | None:
    try:
        if IdUrl.parse(value).url != value:
            return "must be an IDURL in canonical form"
    except BadRequest as exc:
        return exc.message
    return None


def _idurl_list(value: Any) -> str | None:
    if not isinstance(value, list) or not 0 < len(value) <= 64:
        return "must be a list of 1 to 64 IDURLs"
    for item in value:
        if item == "":
            continue  # an empty position: no supplier hired there yet
        problem = _idurl(item)
        if problem:
            return problem
    return None


def _ecc_map(value: Any) -> str | None:
    return None if value in ECC_MAPS else f"must be one of {', '.join(ECC_MAPS)}"


def _nickname(value: Any) -> str | None:
    if not isinstance(value, str) or not _NICKNAME_RE.match(value) or not value.isprintable():
        return f"must be 1 to {MAX_NICKNAME} characters without spaces or ':'"
    return None


def _object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be a JSON object"


def _signature(value: Any) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SIGNATURE:
        return "must be base64 text"
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "must be base64 text"
    return None


_REVISION = _integer(0, 2**63 - 1)
_TIMESTAMP = _integer(0, 2**40)


@attrs.frozen
class RecordType:
    """The rules of one record type.

    ``fields``: every field the record must have (besides ``type`` and ``signature``), with its
    check; no other field is allowed. ``key``: the only key such a record may be stored under.
    ``signer``: the field naming the IDURL whose key must sign the record (None: unsigned).
    ``revision``: the field that orders versions; a store never replaces a newer version.
    ``extra``: a last check over the whole record (e.g. the supplier list matches the ECC map).
    """

    name: str
    fields: dict[str, Callable[[Any], str | None]] = attrs.field(factory=dict)
    key: Callable[[dict[str, Any]], str] | None = None
    signer: str | None = None
    revision: str | None = None
    extra: Callable[[dict[str, Any]], str | None] | None = None
    open_fields: bool = False


def _suppliers_match_ecc_map(record: dict[str, Any]) -> str | None:
    wanted = ECC_MAPS[record["ecc_map"]].suppliers
    if len(record["suppliers"]) != wanted:
        return f"{record['ecc_map']} needs {wanted} supplier positions, got {len(record['suppliers'])}"
    if record["publisher_idurl"] != record["customer_idurl"]:
        return "only the customer publishes its supplier list"
    return None


def _identity_document(record: dict[str, Any]) -> str | None:
    from bitdust.userid.errors import IdentityError
    from bitdust.userid.identity import Identity

    try:
        identity = Identity.from_xml(record["xml"])
    except (IdentityError, BadRequest, ValueError) as exc:
        return f"not a valid identity document: {getattr(exc, 'message', exc)}"
    if not identity.verify():
        return "the identity document's own signature does not verify"
    if record["idurl"] not in [source.url for source in identity.sources]:
        return "the identity document is not served at this IDURL"
    return None


RECORD_TYPES: dict[str, RecordType] = {
    t.name: t
    for t in (
        RecordType(name="skip_validation", open_fields=True),
        RecordType(
            name="nickname",
            fields={"nickname": _nickname, "idurl": _idurl, "position": _integer(0, MAX_POSITION)},
            key=lambda r: f"{r['nickname']}:{r['position']}",
            signer="idurl",
        ),
        RecordType(
            name="identity",
            fields={"idurl": _idurl, "xml": _text(MAX_VALUE), "revision": _REVISION},
            key=lambda r: f"identity:{r['idurl']}",
            revision="revision",
            extra=_identity_document,
        ),
        RecordType(
            name="suppliers",
            fields={
                "customer_idurl": _idurl,
                "publisher_idurl": _idurl,
                "ecc_map": _ecc_map,
                "suppliers": _idurl_list,
                "revision": _REVISION,
                "timestamp": _TIMESTAMP,
            },
            key=lambda r: f"suppliers:{r['customer_idurl']}",
            signer="customer_idurl",
            revision="revision",
            extra=_suppliers_match_ecc_map,
        ),
        RecordType(
            name="message_broker",
            fields={
                "customer_idurl": _idurl,
                "broker_idurl": _idurl,
                "position": _integer(0, MAX_POSITION),
                "revision": _REVISION,
                "timestamp": _TIMESTAMP,
            },
            key=lambda r: f"message_broker:{r['customer_idurl']}:{r['position']}",
            signer="broker_idurl",
            revision="revision",
        ),
        RecordType(
            name="relation",
            fields={
                "idurl": _idurl,
                "index": _integer(0, 9999),
                "data": _object,
                "revision": _REVISION,
            },
            key=lambda r: f"relation:{r['idurl']}:{r['index']}",
            signer="idurl",
            revision="revision",
        ),
    )
}


def record_type(name: object) -> RecordType:
    """The rules of ``name``; BadRequest naming the known types otherwise."""
    found = RECORD_TYPES.get(name) if isinstance(name, str) else None
    if found is None:
        raise BadRequest(f"unknown record type {name!r}; known: {', '.join(RECORD_TYPES)}")
    return found


# -- encoding and signing ---------------------------------------------------------------------


def canonical_json(data: Any) -> bytes:
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
    unsigned = {name: value for name, value in record.items() if name != "signature"}
    return canonical_json([SIGNING_TAG, key, unsigned])


def sign_record(key: str, record: dict[str, Any], rsa_key: Any) -> dict[str, Any]:
    """A copy of ``record`` with ``signature``: ``rsa_key`` (private) over :func:`signing_bytes`."""
    signature = rsa_key.sign(signing_bytes(key, record))
    return dict(record, signature=base64.b64encode(signature).decode("ascii"))


def make_record(record_type_name: str, value: Any) -> dict[str, Any]:
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


# -- checking ---------------------------------------------------------------------------------


def check_structure(key: str, record: Any, record_type_name: str) -> RecordType:
    """Every rule that needs no key lookup: type, size, fields, key, the type's own check."""
    kind = record_type(record_type_name)
    if not isinstance(record, dict):
        raise RecordError(kind.name, "json", "a record is a JSON object")
    if record.get("type") != kind.name:
        raise RecordError(kind.name, "type", f"the record says type {record.get('type')!r}")
    encode_record(record)
    if not kind.open_fields:
        allowed = set(kind.fields) | {"type"} | ({"signature"} if kind.signer else set())
        unknown = sorted(set(record) - allowed)
        if unknown:
            raise RecordError(kind.name, "fields", f"unknown field {unknown[0]!r}")
        for name, check in kind.fields.items():
            if name not in record:
                raise RecordError(kind.name, "fields", f"field {name!r} is missing")
            problem = check(record[name])
            if problem:
                raise RecordError(kind.name, "fields", f"field {name!r} {problem}")
    if kind.key is not None and key != kind.key(record):
        raise RecordError(kind.name, "key", f"this record must be stored under key {kind.key(record)!r}")
    if kind.extra is not None:
        problem = kind.extra(record)
        if problem:
            raise RecordError(kind.name, "content", problem)
    if kind.signer is not None:
        problem = _signature(record.get("signature"))
        if problem:
            raise RecordError(kind.name, "signature", f"field 'signature' {problem}")
    return kind


def revision_of(record: dict[str, Any], record_type_name: str) -> int | None:
    kind = RECORD_TYPES.get(record_type_name)
    if kind is None or kind.revision is None:
        return None
    value = record.get(kind.revision)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


PublicKeyFetcher = Callable[[str], "defer.Deferred[Any]"]


class RecordValidator:
    """Checks records completely, signatures included.

    ``public_key(idurl)`` fires with the signer's public ``RsaKey`` (or fails when the identity
    cannot be had); the engine passes its identity cache, tests a dictionary.
    """

    def __init__(
        self,
        public_key: PublicKeyFetcher | None = None,
        run_blocking: Callable[..., defer.Deferred[Any]] | None = None,
    ) -> None:
        self._public_key = public_key
        # Parsing identity documents and checking RSA signatures is CPU work: the engine passes its
        # thread pool; simulations and tests run it inline.
        self._run_blocking = run_blocking or (lambda fn, *args: defer.maybeDeferred(fn, *args))

    def validate(self, key: str, value: bytes, record_type_name: str) -> defer.Deferred[dict[str, Any]]:
        """Fires with the record, or fails with RecordError naming the broken rule."""

        def structure() -> tuple[dict[str, Any], RecordType]:
            record = decode_record(value, record_type_name)
            return record, check_structure(key, record, record_type_name)

        return self._run_blocking(structure).addCallback(self._check_signature, key)

    def _check_signature(self, checked: tuple[dict[str, Any], RecordType], key: str) -> Any:
        record, kind = checked
        if kind.signer is None:
            return record
        signer = record[kind.signer]
        if self._public_key is None:
            raise RecordError(kind.name, "signature", "this node cannot check signatures")

        def check(rsa_key: Any) -> dict[str, Any]:
            raw = base64.b64decode(record["signature"])
            if rsa_key is None or not rsa_key.verify(raw, signing_bytes(key, record)):
                raise RecordError(kind.name, "signature", f"not signed by the identity key of {signer}")
            return record

        def unavailable(failure: Any) -> Any:
            if failure.check(RecordError):
                return failure
            raise RecordError(
                kind.name, "signature", f"cannot get the identity of {signer}: {failure.getErrorMessage()}"
            )

        d = defer.maybeDeferred(self._public_key, signer)
        d.addErrback(unavailable)
        d.addCallback(lambda rsa_key: self._run_blocking(check, rsa_key))
        return d
