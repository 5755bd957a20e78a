"""Key ids: ``alias$user@host`` (``host`` may be ``host_port`` for a non-default identity server port).

The part after ``$`` is a global id. Its strict rules (user name length, how a port is written)
belong to the identity layer; here we only make sure an id is well formed enough to be a file name
and a dictionary key: lowercase ``[a-z0-9._-]`` on both sides of ``@``, never ``..`` and never a
leading dot, so a key id can never climb out of the keys folder or hide as a dot-file.
"""

from __future__ import annotations

import re

from bitdust.main.errors import InvalidInput

MASTER_ALIAS = "master"
"""Alias of the identity key; ``master$alice@host`` is the key that signs alice's identity."""

ALIAS_MAX_LENGTH = 50

ALIAS_PATTERN = rf"[a-z0-9_-]{{1,{ALIAS_MAX_LENGTH}}}"
"""What a key alias is, as a full-match pattern (the API declares it to its clients too)."""

_ALIAS_RE = re.compile(ALIAS_PATTERN)
_GLOBAL_ID_PART_RE = re.compile(r"[a-z0-9_-][a-z0-9._-]*")


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is 1..50 of lowercase letters, digits, ``_`` and ``-``; else InvalidInput."""
    if not isinstance(alias, str) or not _ALIAS_RE.fullmatch(alias):
        raise InvalidInput(
            f"invalid key alias {alias!r}: use 1 to {ALIAS_MAX_LENGTH} lowercase letters, digits, '_' or '-'"
        )
    return alias


def check_global_id(global_id: str) -> str:
    """Loose global id check (``user@host`` or ``user@host_port``); the identity layer is stricter."""
    if not isinstance(global_id, str) or global_id.count("@") != 1:
        raise InvalidInput(f"invalid global id {global_id!r}: expected user@host")
    user, host = global_id.split("@")
    for part in (user, host):
        if not _GLOBAL_ID_PART_RE.fullmatch(part) or ".." in part:
            raise InvalidInput(f"invalid global id {global_id!r}: expected user@host")
    return global_id


def make_key_id(alias: str, global_id: str) -> str:
    """``alias$global_id``, both parts checked."""
    return f"{check_alias(alias)}${check_global_id(global_id)}"


def split_key_id(key_id: object) -> tuple[str, str]:
    """``(alias, global_id)`` of a well-formed key id; InvalidInput otherwise."""
    if not isinstance(key_id, str) or key_id.count("$") != 1:
        raise InvalidInput(f"invalid key id {key_id!r}: expected alias$user@host")
    alias, global_id = key_id.split("$")
    try:
        check_alias(alias)
        check_global_id(global_id)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid key id {key_id!r}: {exc.message}") from None
    return alias, global_id


def check_key_id(key_id: object) -> str:
    """Return ``key_id`` if well formed; InvalidInput otherwise (it comes from files and clients)."""
    alias, global_id = split_key_id(key_id)
    return f"{alias}${global_id}"
