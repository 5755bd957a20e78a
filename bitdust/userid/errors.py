"""Errors of the identity layer, each of a kind of :mod:`bitdust.errors` that says how the API answers it."""

from __future__ import annotations

from bitdust.main.errors import Conflict, InvalidInput, RemoteFailure


class IdentityError(InvalidInput):
    """An identity document we refuse: malformed, oversized, inconsistent or badly signed."""


class IdentitySignatureError(IdentityError):
    """The document is well formed but unsigned or its signature does not verify.

    A separate type so that a fetch can tell "the server sent garbage" from "somebody tampered".
    """


class IdentityConflict(Conflict):
    """A valid identity that cannot replace the one we hold: another key, or a revision not higher."""


class IdentityFetchError(RemoteFailure):
    """A remote identity could not be fetched or was not acceptable.

    A :class:`RemoteFailure`: the fault is on the remote identity server or the network, not in
    the caller's request. ``reason`` is a short machine-readable code (``timeout``, ``http-status``,
    ``too-large``, ``network``, ``bad-document``, ``bad-signature``, ``wrong-sources``,
    ``key-changed``) next to the human-readable message.
    """

    def __init__(self, message: str, *, reason: str, url: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.url = url
