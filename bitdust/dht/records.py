"""DHT records: JSON objects with a ``type``, and the one table of rules each type must follow.

A record that breaks a rule is refused when somebody asks us to store it and ignored when a
lookup returns it; :class:`~bitdust.dht.errors.RecordError` names the rule. The trust rule:
every field that matters, the revision included, is covered by the signature of the user the
record speaks for, checked against the key that user's IDURL is bound to.

==============  =====================================  ==============================================
type            speaks for / signed by                 what else binds it
==============  =====================================  ==============================================
nickname        ``idurl`` (``signature``)              lives ``NICKNAME_LIFETIME`` after its signed
                                                       ``timestamp``; position N carries in ``taken``
                                                       the signed claims of the N other users who held
                                                       positions 0..N-1: one key, one position a name
identity        ``idurl``: the document's own          the record's ``revision`` is the document's;
                signature, by the key ``idurl`` is     the document lists ``idurl`` as a source
                bound to
suppliers       ``customer_idurl`` (``signature``)     only the customer publishes it
message_broker  ``customer_idurl``, the group owner    the broker agrees: ``broker_signature`` by
                (``signature``)                        ``broker_idurl`` over the same fields
relation        ``idurl`` (``signature``)
skip_validation nobody                                 any JSON
==============  =====================================  ==============================================

A signature is over :func:`signing_bytes`: the tag ``bitdust-dht-record/1``, the key and the
record without its signature fields, as canonical JSON. The key is signed too, so a signed
record cannot be replayed under another key.

Checking a signature needs the signer's public key, which may have to be fetched from an
identity server; :class:`RecordValidator` therefore answers with a Deferred.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet import defer

from bitdust.dht import record_fields as field
from bitdust.dht.errors import RecordError
from bitdust.dht.messages import MAX_VALUE
from bitdust.main import strict_json
from bitdust.main.errors import BadRequest

SIGNING_TAG = "bitdust-dht-record/1"
MAX_NICKNAME = field.MAX_NICKNAME
MAX_POSITION = 99
NICKNAME_POSITIONS = 10  # nickname:0 .. nickname:9
NICKNAME_LIFETIME = 3 * 24 * 3600  # the owner signs its nickname record again well before this
CLOCK_SKEW = 10 * 60  # how far in our future a signed timestamp may be

_REVISION = field.integer(0, 2**63 - 1)
_TIMESTAMP = field.integer(0, 2**40)


@attrs.frozen
class RecordType:
    """The rules of one record type.

    ``fields``: every field the record must have (besides ``type`` and its signature fields),
    with its check; no other field is allowed. ``key``: the only key such a record may be stored
    under. ``signer``: the field naming the IDURL whose key must sign the record in ``signature``
    (None: unsigned). ``document``: the field holding the signer's self-signed identity document,
    whose signature stands in for ``signature`` and whose key must be the signer's. ``cosigner``:
    (IDURL field, signature field) of a second user who must sign the same bytes. ``unsigned``:
    fields left out of the signed bytes because each of their items carries its own signature.
    ``revision``: the field that orders versions; a store never replaces a newer version.
    ``lifetime``: seconds a record stays valid after its signed ``timestamp``. ``extra``: a last
    check over the whole record; it returns a ``content`` problem or raises RecordError itself.
    """

    name: str
    fields: dict[str, field.FieldCheck | field.EccMapName] = attrs.field(factory=dict)
    key: Callable[[dict[str, Any]], str] | None = None
    signer: str | None = None
    document: str | None = None
    cosigner: tuple[str, str] | None = None
    unsigned: tuple[str, ...] = ()
    revision: str | None = None
    lifetime: int | None = None
    extra: Callable[[dict[str, Any], field.EccLayouts | None], str | None] | None = None
    open_fields: bool = False

    @property
    def signature_fields(self) -> tuple[str, ...]:
        """The fields holding this type's signatures (never part of what is signed)."""
        own = ("signature",) if self.signer is not None and self.document is None else ()
        return own + ((self.cosigner[1],) if self.cosigner else ())


def _suppliers_match_ecc_map(record: dict[str, Any], layouts: field.EccLayouts | None) -> str | None:
    assert layouts is not None, "the ecc_map field check refuses the record without layouts"
    wanted = layouts[record["ecc_map"]]
    if len(record["suppliers"]) != wanted:
        return f"{record['ecc_map']} needs {wanted} supplier positions, got {len(record['suppliers'])}"
    if record["publisher_idurl"] != record["customer_idurl"]:
        return "only the customer publishes its supplier list"
    return None


@functools.lru_cache(maxsize=32)
def _parse_document(xml: str) -> Any:
    """The Identity in ``xml``; RecordError(rule ``content``) when it is not a valid signed one.

    Cached: the structure check and the signature check of one record both need the document.
    """
    from bitdust.userid.errors import IdentityError
    from bitdust.userid.identity import Identity

    try:
        identity = Identity.from_xml(xml)
    except (IdentityError, BadRequest, ValueError) as exc:
        raise RecordError(
            "identity", "content", f"not a valid identity document: {getattr(exc, 'message', exc)}"
        ) from None
    if not identity.verify():
        raise RecordError("identity", "content", "the identity document's own signature does not verify")
    return identity


def _identity_document(record: dict[str, Any], layouts: field.EccLayouts | None) -> str | None:
    identity = _parse_document(record["xml"])
    if record["idurl"] not in [source.url for source in identity.sources]:
        return "the identity document is not served at this IDURL"
    if record["revision"] != identity.revision:
        # The revision orders versions in every store: it must be the one the owner signed.
        raise RecordError(
            "identity",
            "revision",
            f"the record says revision {record['revision']}, its signed document {identity.revision}",
        )
    return None


def _nickname_claims(record: dict[str, Any], layouts: field.EccLayouts | None) -> str | None:
    """Position N is taken only after N other users: ``taken`` holds their signed claims."""
    taken, position = record["taken"], record["position"]
    if len(taken) != position:
        return f"position {position} needs the claims of the {position} users before it, got {len(taken)}"
    holders = [claim["idurl"] for claim in taken]
    if record["idurl"] in holders or len(set(holders)) != len(holders):
        return "one user holds at most one position of a nickname"
    for number, claim in enumerate(taken):
        if not claim["timestamp"] - CLOCK_SKEW <= record["timestamp"] < claim["timestamp"] + NICKNAME_LIFETIME:
            raise RecordError(
                "nickname", "lifetime", f"the claim of position {number} was not alive when this record was signed"
            )
    return None


RECORD_TYPES: dict[str, RecordType] = {
    t.name: t
    for t in (
        RecordType(name="skip_validation", open_fields=True),
        RecordType(
            name="nickname",
            fields={
                "nickname": field.nickname,
                "idurl": field.idurl,
                "position": field.integer(0, NICKNAME_POSITIONS - 1),
                "timestamp": _TIMESTAMP,
                "taken": field.claims(NICKNAME_POSITIONS - 1, _TIMESTAMP),
            },
            key=lambda r: f"{r['nickname']}:{r['position']}",
            signer="idurl",
            unsigned=("taken",),
            revision="timestamp",
            lifetime=NICKNAME_LIFETIME,
            extra=_nickname_claims,
        ),
        RecordType(
            name="identity",
            fields={"idurl": field.idurl, "xml": field.document_text(MAX_VALUE), "revision": _REVISION},
            key=lambda r: f"identity:{r['idurl']}",
            signer="idurl",
            document="xml",
            revision="revision",
            extra=_identity_document,
        ),
        RecordType(
            name="suppliers",
            fields={
                "customer_idurl": field.idurl,
                "publisher_idurl": field.idurl,
                "ecc_map": field.ecc_map,
                "suppliers": field.idurl_list,
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
                "customer_idurl": field.idurl,
                "broker_idurl": field.idurl,
                "position": field.integer(0, MAX_POSITION),
                "revision": _REVISION,
                "timestamp": _TIMESTAMP,
            },
            key=lambda r: f"message_broker:{r['customer_idurl']}:{r['position']}",
            signer="customer_idurl",
            cosigner=("broker_idurl", "broker_signature"),
            revision="revision",
        ),
        RecordType(
            name="relation",
            fields={
                "idurl": field.idurl,
                "index": field.integer(0, 9999),
                "data": field.json_object,
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
    """What a record's signatures are over: the tag, the key, the record without its signature fields.

    Fields whose items carry their own signatures (a nickname's ``taken`` claims) are left out too:
    so a claim copied from another user's record is checked against that user's own signature.
    """
    type_name = record.get("type")
    kind = RECORD_TYPES.get(type_name) if isinstance(type_name, str) else None
    left_out = {"signature"} | (set(kind.signature_fields) | set(kind.unsigned) if kind is not None else set())
    unsigned = {name: value for name, value in record.items() if name not in left_out}
    return canonical_json([SIGNING_TAG, key, unsigned])


def sign_record(key: str, record: dict[str, Any], rsa_key: Any, field_name: str = "signature") -> dict[str, Any]:
    """A copy of ``record`` with ``field_name`` (default ``signature``) signed by ``rsa_key`` (private).

    A message broker record gets ``signature`` from the group owner and ``broker_signature``
    from the broker, both over the same :func:`signing_bytes`.
    """
    signature = rsa_key.sign(signing_bytes(key, record))
    return dict(record, **{field_name: base64.b64encode(signature).decode("ascii")})


def nickname_claim(record: dict[str, Any]) -> dict[str, Any]:
    """The claim a later user of the same nickname copies into ``taken`` from this record."""
    return {"idurl": record["idurl"], "timestamp": record["timestamp"], "signature": record["signature"]}


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


def check_structure(
    key: str, record: Any, record_type_name: str, ecc_layouts: field.EccLayouts | None = None
) -> RecordType:
    """Every rule that needs no key lookup and no clock: type, size, fields, key, the type's own check.

    ``ecc_layouts``: the ECC maps a ``suppliers`` record may name (without them it is refused).
    """
    kind = record_type(record_type_name)
    if not isinstance(record, dict):
        raise RecordError(kind.name, "json", "a record is a JSON object")
    if record.get("type") != kind.name:
        raise RecordError(kind.name, "type", f"the record says type {record.get('type')!r}")
    encode_record(record)
    if not kind.open_fields:
        allowed = set(kind.fields) | {"type"} | set(kind.signature_fields)
        unknown = sorted(set(record) - allowed)
        if unknown:
            raise RecordError(kind.name, "fields", f"unknown field {unknown[0]!r}")
        for name, check in kind.fields.items():
            if name not in record:
                raise RecordError(kind.name, "fields", f"field {name!r} is missing")
            value = record[name]
            problem = check.check(value, ecc_layouts) if isinstance(check, field.EccMapName) else check(value)
            if problem:
                raise RecordError(kind.name, "fields", f"field {name!r} {problem}")
    if kind.key is not None and key != kind.key(record):
        raise RecordError(kind.name, "key", f"this record must be stored under key {kind.key(record)!r}")
    if kind.extra is not None:
        problem = kind.extra(record, ecc_layouts)
        if problem:
            raise RecordError(kind.name, "content", problem)
    for name in kind.signature_fields:
        problem = field.signature(record.get(name))
        if problem:
            raise RecordError(kind.name, "signature", f"field {name!r} {problem}")
    return kind


def check_lifetime(record: dict[str, Any], kind: RecordType, now: float) -> None:
    """RecordError(rule ``lifetime``) for a record signed in our future or past its lifetime."""
    if kind.lifetime is None:
        return
    signed_at = record["timestamp"]
    if signed_at > now + CLOCK_SKEW:
        raise RecordError(kind.name, "lifetime", f"signed at {signed_at}, in the future (now {int(now)})")
    if signed_at + kind.lifetime <= now:
        raise RecordError(kind.name, "lifetime", f"signed at {signed_at}: expired after {kind.lifetime} seconds")


def lifetime_left(record: dict[str, Any], record_type_name: str, now: float) -> float | None:
    """Seconds until a record's signed lifetime ends (None: the type has none); a store keeps it no longer."""
    kind = RECORD_TYPES.get(record_type_name)
    if kind is None or kind.lifetime is None or not isinstance(record.get("timestamp"), int):
        return None
    return record["timestamp"] + kind.lifetime - now


def revision_of(record: dict[str, Any], record_type_name: str) -> int | None:
    kind = RECORD_TYPES.get(record_type_name)
    if kind is None or kind.revision is None:
        return None
    value = record.get(kind.revision)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@attrs.frozen
class SignatureCheck:
    """One signature a record needs: by the identity key of ``idurl``.

    Either ``signature`` (base64) over ``data``, or ``document_key``: the key of a self-signed
    document, which must be the very key ``idurl`` is bound to.
    """

    idurl: str
    what: str
    signature: str = ""
    data: bytes = b""
    document_key: Any = None


def signature_checks(key: str, record: dict[str, Any], kind: RecordType) -> list[SignatureCheck]:
    """Every signature ``record`` needs, by whom and over what (blocking: parses documents)."""
    if kind.signer is None:
        return []
    signer = record[kind.signer]
    if kind.document is not None:
        document = _parse_document(record[kind.document])
        return [SignatureCheck(signer, "the identity document", document_key=document.public_rsa())]
    data = signing_bytes(key, record)
    checks = [SignatureCheck(signer, "the record", record["signature"], data)]
    if kind.cosigner is not None:
        cosigner, name = kind.cosigner
        checks.append(SignatureCheck(record[cosigner], f"field {name!r}", record[name], data))
    if kind.name == "nickname":
        for position, claim in enumerate(record["taken"]):
            claimed = {
                "type": kind.name,
                "nickname": record["nickname"],
                "idurl": claim["idurl"],
                "position": position,
                "timestamp": claim["timestamp"],
            }
            data = signing_bytes(f"{record['nickname']}:{position}", claimed)
            checks.append(SignatureCheck(claim["idurl"], f"the claim of position {position}", claim["signature"], data))
    return checks


def verify_signatures(kind: RecordType, checks: list[SignatureCheck], keys: dict[str, Any]) -> None:
    """Blocking (RSA): RecordError(rule ``signature``) naming the first check that fails."""
    for check in checks:
        rsa_key = keys.get(check.idurl)
        if check.document_key is not None:
            if rsa_key is None or rsa_key != check.document_key:
                raise RecordError(
                    kind.name,
                    "signature",
                    f"{check.what} is signed by a key that is not the identity key of {check.idurl}",
                )
            continue
        raw = base64.b64decode(check.signature)
        if rsa_key is None or not rsa_key.verify(raw, check.data):
            raise RecordError(
                kind.name, "signature", f"{check.what} is not signed by the identity key of {check.idurl}"
            )


PublicKeyFetcher = Callable[[str], "defer.Deferred[Any]"]


class RecordValidator:
    """Checks records completely, signatures and signed lifetimes included.

    ``public_key(idurl)`` fires with the public ``RsaKey`` that IDURL is bound to (or fails when
    the identity cannot be had); the engine passes its identity cache, tests a dictionary.
    ``clock()`` says what time it is for signed lifetimes (the engine passes its reactor's).
    ``ecc_layouts`` maps the ECC map names a ``suppliers`` record may use to their supplier
    positions (the engine passes the ``raid`` table; without it such records are refused).
    """

    def __init__(
        self,
        public_key: PublicKeyFetcher | None = None,
        run_blocking: Callable[..., defer.Deferred[Any]] | None = None,
        clock: Callable[[], float] | None = None,
        ecc_layouts: field.EccLayouts | None = None,
    ) -> None:
        self._public_key = public_key
        self._ecc_layouts = ecc_layouts
        # Parsing identity documents and checking RSA signatures is CPU work: the engine passes its
        # thread pool; simulations and tests run it inline.
        self._run_blocking = run_blocking or (lambda fn, *args: defer.maybeDeferred(fn, *args))
        self._clock = clock or time.time

    def validate(self, key: str, value: bytes, record_type_name: str) -> defer.Deferred[dict[str, Any]]:
        """Fires with the record, or fails with RecordError naming the broken rule."""
        now = self._clock()

        def structure() -> tuple[dict[str, Any], RecordType, list[SignatureCheck]]:
            record = decode_record(value, record_type_name)
            kind = check_structure(key, record, record_type_name, self._ecc_layouts)
            check_lifetime(record, kind, now)
            return record, kind, signature_checks(key, record, kind)

        return self._run_blocking(structure).addCallback(self._check_signatures)

    def _check_signatures(self, checked: tuple[dict[str, Any], RecordType, list[SignatureCheck]]) -> Any:
        record, kind, checks = checked
        if not checks:
            return record
        if self._public_key is None:
            raise RecordError(kind.name, "signature", "this node cannot check signatures")
        idurls = list(dict.fromkeys(check.idurl for check in checks))

        def unavailable(failure: Any, idurl: str) -> Any:
            if failure.check(RecordError):
                return failure
            raise RecordError(
                kind.name, "signature", f"cannot get the identity of {idurl}: {failure.getErrorMessage()}"
            )

        fetches = [defer.maybeDeferred(self._public_key, idurl).addErrback(unavailable, idurl) for idurl in idurls]

        def first_error(failure: Any) -> Any:
            failure.trap(defer.FirstError)
            return failure.value.subFailure

        def verify(found: list[Any]) -> defer.Deferred[Any]:
            keys = dict(zip(idurls, found, strict=True))
            return self._run_blocking(verify_signatures, kind, checks, keys)

        d = defer.gatherResults(fetches, consumeErrors=True).addErrback(first_error)
        d.addCallback(verify)
        return d.addCallback(lambda _: record)
