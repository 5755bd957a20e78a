"""Checking DHT records completely: structure, signed lifetime and signatures.

A record that breaks a rule is refused when somebody asks us to store it and ignored when a
lookup returns it; :class:`~bitdust.dht.errors.RecordError` names the rule. The trust rule:
every field that matters, the revision included, is covered by the signature of the user the
record speaks for, checked against the key that user's IDURL is bound to. The table of types and
their rules is :mod:`bitdust.dht.record_types`; the stored form and the signed bytes are
:mod:`bitdust.dht.record_encoding` (both re-exported here, where the rest of the node imports
them from).

Checking a signature needs the signer's public key, which may have to be fetched from an
identity server; :class:`RecordValidator` therefore answers with a Deferred.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.dht import record_fields as field
from bitdust.dht.errors import RecordError
from bitdust.dht.record_encoding import (
    SIGNING_TAG,
    canonical_json,
    decode_record,
    encode_record,
    make_record,
    nickname_claim,
    sign_record,
    signing_bytes,
    value_problem,
)
from bitdust.dht.record_types import (
    CLOCK_SKEW,
    MAX_NICKNAME,
    MAX_POSITION,
    NICKNAME_LIFETIME,
    NICKNAME_POSITIONS,
    RECORD_TYPES,
    RecordType,
    parse_document,
    record_type,
)

if TYPE_CHECKING:
    from bitdust.crypt.rsa_key import RsaKey

__all__ = [
    "CLOCK_SKEW",
    "MAX_NICKNAME",
    "MAX_POSITION",
    "NICKNAME_LIFETIME",
    "NICKNAME_POSITIONS",
    "RECORD_TYPES",
    "SIGNING_TAG",
    "PublicKeyFetcher",
    "RecordType",
    "RecordValidator",
    "SignatureCheck",
    "canonical_json",
    "check_lifetime",
    "check_structure",
    "decode_record",
    "encode_record",
    "lifetime_left",
    "make_record",
    "nickname_claim",
    "record_type",
    "revision_of",
    "sign_record",
    "signature_checks",
    "signing_bytes",
    "value_problem",
    "verify_signatures",
]


def check_structure(
    key: str, record: object, record_type_name: str, ecc_layouts: field.EccLayouts | None = None
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
    document_key: RsaKey | None = None


def signature_checks(key: str, record: dict[str, Any], kind: RecordType) -> list[SignatureCheck]:
    """Every signature ``record`` needs, by whom and over what (blocking: parses documents)."""
    if kind.signer is None:
        return []
    signer = record[kind.signer]
    if kind.document is not None:
        document = parse_document(record[kind.document])
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


def verify_signatures(kind: RecordType, checks: list[SignatureCheck], keys: dict[str, RsaKey]) -> None:
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


PublicKeyFetcher = Callable[[str], "defer.Deferred[RsaKey]"]


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

    def _check_signatures(
        self, checked: tuple[dict[str, Any], RecordType, list[SignatureCheck]]
    ) -> dict[str, Any] | defer.Deferred[dict[str, Any]]:
        record, kind, checks = checked
        if not checks:
            return record
        if self._public_key is None:
            raise RecordError(kind.name, "signature", "this node cannot check signatures")
        idurls = list(dict.fromkeys(check.idurl for check in checks))

        def unavailable(failure: Failure, idurl: str) -> Failure:
            if failure.check(RecordError):
                return failure
            raise RecordError(
                kind.name, "signature", f"cannot get the identity of {idurl}: {failure.getErrorMessage()}"
            )

        fetches = [defer.maybeDeferred(self._public_key, idurl).addErrback(unavailable, idurl) for idurl in idurls]

        def first_error(failure: Failure) -> Failure:
            failure.trap(defer.FirstError)
            return failure.value.subFailure

        def verify(found: list[RsaKey]) -> defer.Deferred[None]:
            keys = dict(zip(idurls, found, strict=True))
            return self._run_blocking(verify_signatures, kind, checks, keys)

        d = defer.gatherResults(fetches, consumeErrors=True).addErrback(first_error)
        d.addCallback(verify)
        return d.addCallback(lambda _: record)
