"""Errors of the crypt package, each of a kind of :mod:`bitdust.errors`."""

from __future__ import annotations

from bitdust.main.errors import InternalError, InvalidInput


class CryptError(InternalError):
    """A decryption, unwrapping or signing operation failed.

    Deliberately vague about why (bad tag, wrong key, truncated blob): callers get one type to catch
    and an attacker learns nothing from the message.
    """


class KeyFormatError(InvalidInput):
    """Key text that we refuse to load: garbage, not RSA, encrypted, or an unsafe size."""
