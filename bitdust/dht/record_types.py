"""The record types of the DHT: the one table of rules each type must follow, and the type-specific checks.

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
suppliers       ``customer_idurl`` (``signature``)     the customer's family record: one position per
                                                       supplier of ``ecc_map``, no duplicate, not the
                                                       customer itself, at least one hired
message_broker  ``customer_idurl``, the group owner    the broker agrees: ``broker_signature`` by
                (``signature``)                        ``broker_idurl`` over the same fields
relation        ``idurl`` (``signature``)
skip_validation nobody                                 any JSON
==============  =====================================  ==============================================

A signature is over :func:`~bitdust.dht.record_encoding.signing_bytes`: the tag, the key and the
record without its signature fields, as canonical JSON, so a signed record cannot be replayed
under another key.

How the rules are applied (structure, lifetime, signatures) is :mod:`bitdust.dht.records`; the
stored form and the signed bytes are :mod:`bitdust.dht.record_encoding`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from bitdust.dht import record_fields as field
from bitdust.dht.errors import RecordError
from bitdust.dht.messages import MAX_VALUE
from bitdust.main.errors import InvalidInput

if TYPE_CHECKING:
    from bitdust.userid.identity import Identity

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


def _family_record(record: dict[str, Any], layouts: field.EccLayouts | None) -> str | None:
    """The family record's own rules (see :mod:`bitdust.dht.family_record` for why each exists).

    One position per supplier of the ECC map, in order; ``""`` marks a position not hired yet,
    but at least one position is filled (a record naming nobody tells a lost customer nothing);
    a supplier holds one position only, and the customer is never its own supplier.
    """
    assert layouts is not None, "the ecc_map field check refuses the record without layouts"
    wanted = layouts[record["ecc_map"]]
    suppliers = record["suppliers"]
    if len(suppliers) != wanted:
        return f"{record['ecc_map']} needs {wanted} supplier positions, got {len(suppliers)}"
    if record["publisher_idurl"] != record["customer_idurl"]:
        return "only the customer publishes its supplier list"
    hired = [idurl for idurl in suppliers if idurl]
    if not hired:
        return "no supplier position is filled"
    if len(set(hired)) != len(hired):
        return "a supplier holds more than one position"
    if record["customer_idurl"] in hired:
        return "the customer cannot be its own supplier"
    return None


@functools.lru_cache(maxsize=32)
def parse_document(xml: str) -> Identity:
    """The Identity in ``xml``; RecordError(rule ``content``) when it is not a valid signed one.

    Cached: the structure check and the signature check of one record both need the document.
    """
    from bitdust.userid.errors import IdentityError
    from bitdust.userid.identity import Identity

    try:
        identity = Identity.from_xml(xml)
    except (IdentityError, InvalidInput, ValueError) as exc:
        raise RecordError(
            "identity", "content", f"not a valid identity document: {getattr(exc, 'message', exc)}"
        ) from None
    if not identity.verify():
        raise RecordError("identity", "content", "the identity document's own signature does not verify")
    return identity


def _identity_document(record: dict[str, Any], layouts: field.EccLayouts | None) -> str | None:
    identity = parse_document(record["xml"])
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
            extra=_family_record,
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
    """The rules of ``name``; InvalidInput naming the known types otherwise."""
    found = RECORD_TYPES.get(name) if isinstance(name, str) else None
    if found is None:
        raise InvalidInput(f"unknown record type {name!r}; known: {', '.join(RECORD_TYPES)}")
    return found
