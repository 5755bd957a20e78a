"""The signed identity document: who a user is, where to reach them, and the key that speaks for them.

The signature covers :meth:`Identity.canonical_bytes`, a compact sorted-key JSON rendering of every
field except the signature, tagged with a format version. Because the XML is only a container, a
document re-indented or with its elements reordered by some tool still verifies, and a signer and a
verifier never have to agree on XML serialization details (the original signed its own XML text,
which made every formatting difference a broken identity).

Parsing is defensive: identity XML comes from strangers over HTTP. ``defusedxml`` refuses DTDs and
entities (billion laughs, external entities); the size is capped before parsing; every element must
be known and appear once; all values are validated the same way whether the document is built in
code or parsed. Every refusal is an :class:`IdentityError` with a reason a user can act on.
"""

from __future__ import annotations

import base64
import binascii
import json
import xml.etree.ElementTree as ET  # building only; parsing goes through defusedxml
from typing import Any

import attrs
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from bitdust.crypt.errors import KeyFormatError
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.errors import InvalidInput
from bitdust.userid.errors import IdentityError, IdentitySignatureError
from bitdust.userid.idurl import IdUrl

MAX_IDENTITY_SIZE = 32 * 1024
"""Largest identity XML we parse, store or serve (bytes)."""

CANONICAL_FORMAT = "bitdust-identity/1"
"""Tag inside the signed bytes, so a future format can never be confused with this one."""

MAX_SOURCES = 6
MAX_CONTACTS = 16
MAX_CONTACT_LENGTH = 256
MAX_EXTRA_ITEMS = 16
MAX_EXTRA_LENGTH = 1024
MAX_TEXT_LENGTH = 256
MAX_SIGNATURE_LENGTH = 2048
MAX_REVISION = 2**63 - 1

_LISTS = {"sources": "source", "contacts": "contact", "certificates": "certificate", "scrubbers": "scrubber"}
_SCALARS = ("postage", "date", "version", "revision", "publickey", "signature")
_REQUIRED = ("sources", "publickey", "revision")
_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _check_text(value: object, what: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Text that survives XML and stripping unchanged: printable, no outer whitespace, bounded."""
    if not isinstance(value, str):
        raise IdentityError(f"{what} must be a string, not {type(value).__name__}")
    if len(value) > max_length:
        raise IdentityError(f"{what} is longer than {max_length} characters")
    if value != value.strip() or not value.isprintable():
        raise IdentityError(f"{what} must be printable text without leading or trailing whitespace")
    return value


def _to_sources(value: Any) -> tuple[IdUrl, ...]:
    if isinstance(value, str | bytes | IdUrl):
        raise IdentityError("sources must be a sequence of IDURLs")
    result = []
    for position, source in enumerate(value, start=1):
        if isinstance(source, IdUrl):
            result.append(source)
            continue
        try:
            result.append(IdUrl.parse(source))
        except InvalidInput as exc:
            raise IdentityError(f"source {position}: {exc.message}") from None
    return tuple(result)


def _to_strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str | bytes):
        raise IdentityError("expected a sequence of strings, not a single string")
    return tuple(value)


def _check_list(items: tuple[str, ...], what: str, max_items: int, max_length: int) -> None:
    if len(items) > max_items:
        raise IdentityError(f"too many {what}: {len(items)}, at most {max_items}")
    for position, item in enumerate(items, start=1):
        if not _check_text(item, f"{what} {position}", max_length):
            raise IdentityError(f"{what} {position} is empty")
    if len(set(items)) != len(items):
        raise IdentityError(f"duplicate {what}")


@attrs.frozen(kw_only=True)
class Identity:
    """One user's identity document; construction validates every field (IdentityError otherwise).

    ``public_key`` is normalized to bare ``ssh-rsa AAAA...`` (a comment is dropped), so the signed
    bytes never depend on how the key text was written.
    """

    sources: tuple[IdUrl, ...] = attrs.field(converter=_to_sources)
    contacts: tuple[str, ...] = attrs.field(default=(), converter=_to_strings)
    public_key: str = ""
    revision: int = 0
    date: str = ""
    version: str = ""
    postage: str = "1"
    certificates: tuple[str, ...] = attrs.field(default=(), converter=_to_strings)
    scrubbers: tuple[str, ...] = attrs.field(default=(), converter=_to_strings)
    signature: str = ""
    _rsa: RsaKey = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.sources:
            raise IdentityError("an identity needs at least one source IDURL")
        if len(self.sources) > MAX_SOURCES:
            raise IdentityError(f"too many sources: {len(self.sources)}, at most {MAX_SOURCES}")
        names = {source.name for source in self.sources}
        if len(names) != 1:
            raise IdentityError(f"all sources must carry the same user name, got {', '.join(sorted(names))}")
        if len(set(self.sources)) != len(self.sources):
            raise IdentityError("duplicate source IDURLs")
        _check_list(self.contacts, "contact", MAX_CONTACTS, MAX_CONTACT_LENGTH)
        for position, contact in enumerate(self.contacts, start=1):
            if "://" not in contact:
                raise IdentityError(f"contact {position} {contact!r} is not a transport endpoint (proto://address)")
        _check_list(self.certificates, "certificate", MAX_EXTRA_ITEMS, MAX_EXTRA_LENGTH)
        _check_list(self.scrubbers, "scrubber", MAX_EXTRA_ITEMS, MAX_EXTRA_LENGTH)
        if isinstance(self.revision, bool) or not isinstance(self.revision, int):
            raise IdentityError(f"revision must be an integer, not {type(self.revision).__name__}")
        if not 0 <= self.revision <= MAX_REVISION:
            raise IdentityError(f"revision {self.revision} is out of range")
        for what in ("date", "version", "postage"):
            _check_text(getattr(self, what), what)
        _check_text(self.signature, "signature", MAX_SIGNATURE_LENGTH)
        if not set(self.signature) <= _B64_ALPHABET:
            raise IdentityError("signature is not base64 text")
        if not isinstance(self.public_key, str) or not self.public_key:
            raise IdentityError("an identity needs a public key")
        try:
            rsa_key = RsaKey.from_public_text(self.public_key)
        except KeyFormatError as exc:
            raise IdentityError(f"bad public key: {exc.message}") from None
        object.__setattr__(self, "_rsa", rsa_key.public_key())
        object.__setattr__(self, "public_key", rsa_key.public_openssh())

    # -- who ------------------------------------------------------------------------------------

    @property
    def idurl(self) -> IdUrl:
        """The primary source: where peers look first, and what the global id is derived from."""
        return self.sources[0]

    @property
    def name(self) -> str:
        return self.sources[0].name

    @property
    def global_id(self) -> str:
        return self.sources[0].global_id

    def public_rsa(self) -> RsaKey:
        """The document's public key (never a private key)."""
        return self._rsa

    # -- signature ------------------------------------------------------------------------------

    def canonical_bytes(self) -> bytes:
        """What is signed: every field but the signature, as compact sorted-key ASCII JSON."""
        payload = {
            "format": CANONICAL_FORMAT,
            "sources": [source.url for source in self.sources],
            "contacts": list(self.contacts),
            "certificates": list(self.certificates),
            "scrubbers": list(self.scrubbers),
            "postage": self.postage,
            "date": self.date,
            "version": self.version,
            "revision": self.revision,
            "publickey": self.public_key,
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    def same_content(self, other: Identity) -> bool:
        """True when both documents say the same thing (signatures may differ: PSS is randomized)."""
        return self.canonical_bytes() == other.canonical_bytes()

    def signed(self, rsa_key: RsaKey) -> Identity:
        """A copy signed by ``rsa_key``, which must be the private half of the document's key."""
        if not rsa_key.has_private:
            raise IdentityError("signing an identity needs the private key")
        if rsa_key != self._rsa:
            raise IdentityError("the signing key is not the identity's public key")
        signature = base64.b64encode(rsa_key.sign(self.canonical_bytes())).decode("ascii")
        return attrs.evolve(self, signature=signature)

    def verify(self) -> bool:
        """True only if the signature is present and checks against the document's own key."""
        if not self.signature:
            return False
        try:
            raw = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        return self._rsa.verify(raw, self.canonical_bytes())

    def with_changes(self, **fields: Any) -> Identity:
        """An unsigned copy with ``fields`` replaced; the caller bumps ``revision`` and re-signs."""
        if "signature" in fields:
            raise TypeError("with_changes() returns an unsigned copy; sign it with signed()")
        return attrs.evolve(self, signature="", **fields)

    # -- XML ------------------------------------------------------------------------------------

    def to_xml(self) -> str:
        """The document as served by identity servers (indented, UTF-8 declaration)."""
        root = ET.Element("identity")
        for tag, values in (
            ("sources", [source.url for source in self.sources]),
            ("contacts", self.contacts),
            ("certificates", self.certificates),
            ("scrubbers", self.scrubbers),
        ):
            parent = ET.SubElement(root, tag)
            for value in values:
                ET.SubElement(parent, _LISTS[tag]).text = value
        for tag, value in (
            ("postage", self.postage),
            ("date", self.date),
            ("version", self.version),
            ("revision", str(self.revision)),
            ("publickey", self.public_key),
            ("signature", self.signature),
        ):
            ET.SubElement(root, tag).text = value
        ET.indent(root)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    @classmethod
    def from_xml(cls, data: str | bytes, *, require_signature: bool = True) -> Identity:
        """Parse and validate identity XML; with ``require_signature``, also verify it.

        IdentityError (or its IdentitySignatureError) with the reason for anything refused.
        """
        if isinstance(data, str):
            size = len(data.encode("utf-8", errors="surrogatepass"))
        elif isinstance(data, bytes | bytearray):
            size = len(data)
        else:
            raise IdentityError(f"identity XML must be text or bytes, not {type(data).__name__}")
        if size > MAX_IDENTITY_SIZE:
            raise IdentityError(f"identity document is {size} bytes, over the {MAX_IDENTITY_SIZE} byte limit")
        try:
            root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException as exc:
            raise IdentityError(
                f"identity XML refused: {type(exc).__name__} (DTDs and entities are not allowed)"
            ) from None
        except (ET.ParseError, ValueError, UnicodeError, LookupError) as exc:
            # LookupError: an XML declaration naming an encoding Python does not know
            raise IdentityError(f"identity XML is malformed: {exc}") from None
        fields = _read_root(root)
        try:
            identity = cls(
                sources=fields.get("sources", ()),
                contacts=fields.get("contacts", ()),
                certificates=fields.get("certificates", ()),
                scrubbers=fields.get("scrubbers", ()),
                postage=fields.get("postage", "1"),
                date=fields.get("date", ""),
                version=fields.get("version", ""),
                revision=_parse_revision(fields["revision"]),
                public_key=fields["publickey"],
                signature=fields.get("signature", ""),
            )
        except IdentityError:
            raise
        except InvalidInput as exc:
            raise IdentityError(exc.message) from None
        if require_signature:
            if not identity.signature:
                raise IdentitySignatureError("identity is not signed")
            if not identity.verify():
                raise IdentitySignatureError("identity signature does not match its content and public key")
        return identity

    # -- API ------------------------------------------------------------------------------------

    def to_json(self, include_xml: bool = False) -> dict[str, Any]:
        """The original's ``identity_get`` shape (``revision`` as a string, as it was)."""
        result: dict[str, Any] = {
            "name": self.name,
            "idurl": self.idurl.url,
            "global_id": self.global_id,
            "sources": [source.url for source in self.sources],
            "contacts": list(self.contacts),
            "certificates": list(self.certificates),
            "scrubbers": list(self.scrubbers),
            "postage": self.postage,
            "date": self.date,
            "version": self.version,
            "revision": str(self.revision),
            "publickey": self.public_key,
            "signature": self.signature,
        }
        if include_xml:
            result["xml"] = self.to_xml()
        return result


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _leaf_text(element: ET.Element, what: str) -> str:
    if len(element) or element.attrib:
        raise IdentityError(f"<{what}> must be plain text without attributes or child elements")
    return (element.text or "").strip()


def _read_root(root: ET.Element) -> dict[str, Any]:
    """The root's fields as strings and tuples of strings; structure errors are IdentityError."""
    if root.tag != "identity":
        raise IdentityError(f"root element is <{root.tag}>, expected <identity>")
    if root.attrib:
        raise IdentityError("<identity> takes no attributes")
    if not _blank(root.text):
        raise IdentityError("unexpected text inside <identity>")
    fields: dict[str, Any] = {}
    for child in root:
        tag = child.tag
        if not isinstance(tag, str) or (tag not in _LISTS and tag not in _SCALARS):
            raise IdentityError(f"unknown element <{tag}> in identity")
        if tag in fields:
            raise IdentityError(f"duplicate element <{tag}> in identity")
        if not _blank(child.tail):
            raise IdentityError(f"unexpected text after <{tag}>")
        if tag in _LISTS:
            fields[tag] = _read_list(child, tag, _LISTS[tag])
        else:
            fields[tag] = _leaf_text(child, tag)
    missing = [tag for tag in _REQUIRED if tag not in fields]
    if missing:
        raise IdentityError(f"identity lacks {', '.join(f'<{tag}>' for tag in missing)}")
    return fields


def _read_list(parent: ET.Element, tag: str, item_tag: str) -> tuple[str, ...]:
    if parent.attrib or not _blank(parent.text):
        raise IdentityError(f"<{tag}> takes only <{item_tag}> elements")
    limit = MAX_SOURCES if tag == "sources" else MAX_CONTACTS if tag == "contacts" else MAX_EXTRA_ITEMS
    if len(parent) > limit:
        raise IdentityError(f"too many <{item_tag}> elements: {len(parent)}, at most {limit}")
    items = []
    for child in parent:
        if child.tag != item_tag:
            raise IdentityError(f"unexpected <{child.tag}> inside <{tag}>, expected <{item_tag}>")
        if not _blank(child.tail):
            raise IdentityError(f"unexpected text inside <{tag}>")
        items.append(_leaf_text(child, item_tag))
    return tuple(items)


def _parse_revision(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise IdentityError(f"revision {text[:40]!r} is not a non-negative integer")
    return int(text)
