"""Checks of single DHT record fields: each takes a value and returns an error text, or None.

They know nothing about signatures or keys; :mod:`bitdust.dht.records` combines them into the
rules of each record type.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping

from bitdust.main.errors import InvalidInput
from bitdust.userid.idurl import IdUrl

FieldCheck = Callable[[object], "str | None"]
EccLayouts = Mapping[str, int]
"""ECC map name -> supplier positions. The maps belong to ``raid``, below the DHT in the layer
order, so the DHT does not import them: the service that builds the validator passes them in."""

MAX_NICKNAME = 64
MAX_SIGNATURE = 1024
_NICKNAME_RE = re.compile(r"^[^\s:]{1,64}$")
# Line breaks and tabs are how XML is laid out: our own Identity.to_xml() indents with them.
_LAYOUT = str.maketrans("", "", "\n\r\t")


def text(max_length: int) -> FieldCheck:
    def check(value: object) -> str | None:
        if not isinstance(value, str) or not 0 < len(value) <= max_length or not value.isprintable():
            return f"must be text of 1 to {max_length} printable characters"
        return None

    return check


def document_text(max_length: int) -> FieldCheck:
    """Printable text that may also hold line breaks and tabs (an XML document as served)."""

    def check(value: object) -> str | None:
        if not isinstance(value, str) or not 0 < len(value) <= max_length or not value.translate(_LAYOUT).isprintable():
            return f"must be text of 1 to {max_length} printable characters, line breaks and tabs"
        return None

    return check


def integer(low: int, high: int) -> FieldCheck:
    def check(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be an integer from {low} to {high}"
        return None

    return check


def idurl(value: object) -> str | None:
    try:
        if IdUrl.parse(value).url != value:
            return "must be an IDURL in canonical form"
    except InvalidInput as exc:
        return exc.message
    return None


def idurl_list(value: object) -> str | None:
    if not isinstance(value, list) or not 0 < len(value) <= 64:
        return "must be a list of 1 to 64 IDURLs"
    for item in value:
        if item == "":
            continue  # an empty position: no supplier hired there yet
        problem = idurl(item)
        if problem:
            return problem
    return None


class EccMapName:
    """The check of a field naming an ECC map: it needs the layouts the validator was given."""

    def check(self, value: object, layouts: EccLayouts | None) -> str | None:
        if layouts is None:
            return "cannot be checked: this node was given no ECC maps"
        return None if isinstance(value, str) and value in layouts else f"must be one of {', '.join(layouts)}"


ecc_map = EccMapName()


def nickname(value: object) -> str | None:
    if not isinstance(value, str) or not _NICKNAME_RE.match(value) or not value.isprintable():
        return f"must be 1 to {MAX_NICKNAME} characters without spaces or ':'"
    return None


def json_object(value: object) -> str | None:
    return None if isinstance(value, dict) else "must be a JSON object"


def signature(value: object) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SIGNATURE:
        return "must be base64 text"
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "must be base64 text"
    return None


def claims(max_items: int, timestamp: FieldCheck) -> FieldCheck:
    """A list of other users' signed claims: ``{"idurl", "timestamp", "signature"}`` each."""

    def check(value: object) -> str | None:
        if not isinstance(value, list) or len(value) > max_items:
            return f"must be a list of at most {max_items} claims"
        for number, item in enumerate(value):
            if not isinstance(item, dict) or set(item) != {"idurl", "timestamp", "signature"}:
                return f"item {number} must be an object with idurl, timestamp and signature"
            problem = idurl(item["idurl"]) or timestamp(item["timestamp"]) or signature(item["signature"])
            if problem:
                return f"item {number} {problem}"
        return None

    return check
