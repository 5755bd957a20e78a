"""IDURLs, global ids and user names, in one place.

An IDURL is where an identity document is served: ``http://host[:port]/<name>.xml`` on an identity
server. Its global id is the short form people and key ids use: ``name@host``, or ``name@host_port``
when the port is not 80. Port 80 (the default HTTP port) is omitted in both forms, so each user has
exactly one spelling of each; ``http://host:80/a.xml`` and ``a@host_80`` are accepted and normalized.

Host names are restricted to ``[a-z0-9.-]`` (DNS labels and IPv4 addresses), which is what makes the
``_port`` suffix unambiguous and every global id safe as a file name. Parsing is strict on purpose:
an IDURL ends up in signed documents, file names and key ids, so anything a lenient URL parser would
quietly "fix" (user info, queries, fragments, odd ports, ``..``) is refused with a reason instead.
"""

from __future__ import annotations

import re

import attrs

from bitdust.crypt.key_id import make_key_id, split_key_id
from bitdust.main.errors import InvalidInput

DEFAULT_PORT = 80
"""Port of plain HTTP; never written in an IDURL or a global id."""

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 20
USERNAME_RE = re.compile(rf"[a-z0-9_-]{{{USERNAME_MIN_LENGTH},{USERNAME_MAX_LENGTH}}}")
"""3 to 20 of lowercase letters, digits, ``-`` and ``_`` (the original's rule; ``customer-1`` is fine)."""

MAX_HOST_LENGTH = 253
MAX_IDURL_LENGTH = 512

_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_HOST_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT_RE = re.compile(r"[1-9][0-9]{0,4}")
_IDURL_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/]*)(?P<path>/.*)?", re.DOTALL)


def check_username(name: str) -> str:
    """Return ``name`` if it is a valid user name; InvalidInput saying the rule otherwise."""
    if not isinstance(name, str) or not USERNAME_RE.fullmatch(name):
        raise InvalidInput(
            f"invalid user name {name!r}: use {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} "
            "lowercase letters, digits, '-' or '_'"
        )
    return name


def check_host(host: str) -> str:
    """Return ``host`` if it is a lowercase DNS name or IPv4 address; InvalidInput otherwise."""
    if not isinstance(host, str) or len(host) > MAX_HOST_LENGTH or not _HOST_RE.fullmatch(host):
        raise InvalidInput(f"invalid host {host!r}: use lowercase letters, digits, '-' and '.' (no empty labels)")
    return host


def check_port(port: int) -> int:
    """Return ``port`` if it is an int in 1..65535; InvalidInput otherwise."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidInput(f"invalid port {port!r}: expected 1..65535")
    return port


def _parse_port(text: str, where: str) -> int:
    if not _PORT_RE.fullmatch(text):
        raise InvalidInput(f"invalid port {text!r} in {where!r}: expected 1..65535 without leading zeros")
    return check_port(int(text))


@attrs.frozen(order=False)
class IdUrl:
    """One user's identity location: ``host``, ``port`` (80 when the URL has none) and ``name``."""

    host: str = attrs.field(validator=lambda _i, _a, v: check_host(v))
    port: int = attrs.field(validator=lambda _i, _a, v: check_port(v))
    name: str = attrs.field(validator=lambda _i, _a, v: check_username(v))

    @property
    def url(self) -> str:
        """``http://host[:port]/name.xml``, the port written only when it is not 80."""
        if self.port == DEFAULT_PORT:
            return f"http://{self.host}/{self.name}.xml"
        return f"http://{self.host}:{self.port}/{self.name}.xml"

    @property
    def global_id(self) -> str:
        """``name@host`` or ``name@host_port``."""
        if self.port == DEFAULT_PORT:
            return f"{self.name}@{self.host}"
        return f"{self.name}@{self.host}_{self.port}"

    @property
    def server(self) -> str:
        """``host`` or ``host:port``: the identity server this IDURL lives on."""
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.url

    @classmethod
    def parse(cls, text: object) -> IdUrl:
        """Parse an IDURL strictly; InvalidInput with the reason for anything else."""
        if not isinstance(text, str):
            raise InvalidInput(f"invalid IDURL {text!r}: expected a string")
        if len(text) > MAX_IDURL_LENGTH:
            raise InvalidInput(f"invalid IDURL: longer than {MAX_IDURL_LENGTH} characters")
        shown = text if len(text) <= 80 else text[:77] + "..."
        match = _IDURL_RE.fullmatch(text)
        if match is None:
            raise InvalidInput(f"invalid IDURL {shown!r}: expected http://host[:port]/name.xml")
        if match["scheme"].lower() != "http":
            raise InvalidInput(f"invalid IDURL {shown!r}: only the http scheme is used for identities")
        authority, path = match["authority"], match["path"] or ""
        if "@" in authority:
            raise InvalidInput(f"invalid IDURL {shown!r}: user info is not allowed")
        if "?" in text:
            raise InvalidInput(f"invalid IDURL {shown!r}: a query string is not allowed")
        if "#" in text:
            raise InvalidInput(f"invalid IDURL {shown!r}: a fragment is not allowed")
        host, sep, port_text = authority.rpartition(":")
        if not sep:
            host = authority
        port = _parse_port(port_text, shown) if sep else DEFAULT_PORT
        host = host.lower()
        if not path.startswith("/") or "/" in path[1:] or not path.endswith(".xml"):
            raise InvalidInput(f"invalid IDURL {shown!r}: the path must be exactly /name.xml")
        try:
            return cls(check_host(host), port, check_username(path[1:-4]))
        except InvalidInput as exc:
            raise InvalidInput(f"invalid IDURL {shown!r}: {exc.message}") from None

    @classmethod
    def from_global_id(cls, text: str) -> IdUrl:
        """Parse ``name@host`` or ``name@host_port``; InvalidInput with the reason otherwise."""
        if not isinstance(text, str) or text.count("@") != 1 or len(text) > MAX_IDURL_LENGTH:
            raise InvalidInput(f"invalid global id {text!r}: expected name@host or name@host_port")
        name, server = text.split("@")
        host, sep, port_text = server.rpartition("_")
        if not sep:
            host, port = server, DEFAULT_PORT
        else:
            port = _parse_port(port_text, text)
        try:
            return cls(check_host(host.lower()), port, check_username(name))
        except InvalidInput as exc:
            raise InvalidInput(f"invalid global id {text!r}: {exc.message}") from None


def parse_user_ref(text: str | IdUrl) -> IdUrl:
    """Accept an IDURL or a global id (what API callers pass as a user); InvalidInput otherwise.

    A bare nickname cannot be resolved here: that needs a DHT lookup, which lives above this layer.
    """
    if isinstance(text, IdUrl):
        return text
    if not isinstance(text, str) or not text:
        raise InvalidInput(f"invalid user {text!r}: expected an IDURL or a global id (name@host)")
    if "://" in text:
        return IdUrl.parse(text)
    if "$" in text:
        raise InvalidInput(f"invalid user {text!r}: this is a key id; pass the part after '$'")
    if "@" in text:
        return IdUrl.from_global_id(text)
    if USERNAME_RE.fullmatch(text):
        raise InvalidInput(f"cannot resolve {text!r}: a bare nickname needs a DHT lookup; pass an IDURL or name@host")
    raise InvalidInput(f"invalid user {text!r}: expected an IDURL or a global id (name@host)")


def key_id_of(alias: str, idurl: IdUrl | str) -> str:
    """``alias$global_id`` for a user given as an IdUrl, an IDURL or a global id."""
    return make_key_id(alias, parse_user_ref(idurl).global_id)


def parse_key_id(key_id: str) -> tuple[str, IdUrl]:
    """``(alias, idurl)`` of a key id whose owner part is a valid global id; InvalidInput otherwise."""
    alias, global_id = split_key_id(key_id)
    return alias, IdUrl.from_global_id(global_id)
