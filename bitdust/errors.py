"""The domain errors every layer shares, the state machine runtime included.

Every error a user can cause or observe subclasses :class:`BitDustError` through one of the
*kinds* below, which say what went wrong in the node's own terms (the input is invalid, the thing
is not there, a remote peer failed ...), never how a protocol answers it. A package's own errors
(``bitdust/dht/errors.py``, ``bitdust/userid/errors.py`` ...) derive from a kind, listed first
among their bases so that it decides the answer. The local API alone turns a kind into an HTTP
status, in one table: ``bitdust/interface/error_statuses.py``, used by REST and WebSocket alike.

This module sits above every layer of ``bitdust/layers.py`` (it imports nothing of the project),
so ``automats``, at the top of the order, can raise these too.
"""

from __future__ import annotations


class BitDustError(Exception):
    """Base of all domain errors; ``errors`` are the messages an API answer carries."""

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors if errors is not None else [message]


class InvalidInput(BitDustError):
    """Invalid or missing input: nothing was changed.

    ``parameter`` names the API parameter or option at fault when the raiser knows it, so a
    client can point at the field; the message says the rule that was broken either way.
    """

    def __init__(self, message: str, *, parameter: str | None = None, errors: list[str] | None = None) -> None:
        super().__init__(message, errors=errors)
        self.parameter = parameter


class Malformed(BitDustError):
    """Bytes from a peer that break our protocol (a bad packet, a bad datagram): dropped, counted.

    Kept apart from :class:`InvalidInput` on purpose: code that catches a caller's invalid input
    (an ``except InvalidInput`` turning a parse error into its own message) must not swallow a
    peer's garbage, and the reverse.
    """


class Refused(BitDustError):
    """The request is understood and well formed, but this node or server will not do it."""


class NotFound(BitDustError):
    """An unknown route, key, service, machine or other named object."""


class Conflict(BitDustError):
    """The request contradicts the state it would change: it exists already, or is held by another."""


class TooLarge(BitDustError):
    """The input is over a size limit; nothing of it was kept."""


class LimitReached(BitDustError):
    """A limit of the serving side (a quota, a rate): the same request may pass later."""


class OutOfSpace(BitDustError):
    """There is no room left to keep what was asked for."""


class InternalError(BitDustError):
    """Not the caller's fault and nothing to retry: a bug, corrupt data, or this host's setup."""


class RemoteFailure(BitDustError):
    """A remote node or server answered with a failure, or with something we cannot accept."""


class Unavailable(BitDustError):
    """The engine or a service is not in a state to do this right now."""


class Unreachable(BitDustError):
    """A remote node did not answer in time, or could not be reached at all."""


#: Every kind, most general first; ``bitdust/interface/error_statuses.py`` maps each of them.
KINDS: tuple[type[BitDustError], ...] = (
    BitDustError,
    InvalidInput,
    Malformed,
    Refused,
    NotFound,
    Conflict,
    TooLarge,
    LimitReached,
    OutOfSpace,
    InternalError,
    RemoteFailure,
    Unavailable,
    Unreachable,
)
