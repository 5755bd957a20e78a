"""The HTTP status of each domain error: the one table the local API answers errors from.

The core raises the kinds of :mod:`bitdust.errors` (or its packages' own errors, each derived
from a kind); only this module knows what HTTP makes of them. :class:`~bitdust.interface.api.registry.ApiRegistry`
asks :func:`status_of` for every failed call, so REST answers with that status and WebSocket
carries the same envelope, and the REST layer asks it for the errors it finds before a call.

An error is answered by the first class of its MRO that has a row, which is why a package error
lists its kind first among its bases (``class RpcError(RemoteFailure, DhtError)``). Rows are
kinds only: a new error class picks a kind, it never needs a row. A class that derives from
:class:`~bitdust.errors.BitDustError` directly falls back to the root's 500 at run time, and
``tests/interface/test_error_statuses.py`` fails for it, so no error is a 500 by oversight.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bitdust.errors import (
    BitDustError,
    Conflict,
    InternalError,
    InvalidInput,
    LimitReached,
    Malformed,
    NotFound,
    OutOfSpace,
    Refused,
    RemoteFailure,
    TooLarge,
    Unavailable,
    Unreachable,
)

#: Kind -> HTTP status. The root row is the fallback for an error of no kind.
STATUSES: Mapping[type[BitDustError], int] = MappingProxyType(
    {
        BitDustError: 500,
        InvalidInput: 400,
        Malformed: 400,
        Refused: 403,
        NotFound: 404,
        Conflict: 409,
        TooLarge: 413,
        LimitReached: 429,
        InternalError: 500,
        RemoteFailure: 502,
        Unavailable: 503,
        Unreachable: 504,
        OutOfSpace: 507,
    }
)


def deciding_class(error_type: type[BitDustError]) -> type[BitDustError]:
    """The class of ``error_type``'s MRO whose row answers it (the root when it has no kind)."""
    for cls in error_type.__mro__:
        if cls in STATUSES:
            return cls
    return BitDustError  # not reached: every error type has the root in its MRO


def status_of(error: BitDustError) -> int:
    """The HTTP status the local API answers ``error`` with."""
    return STATUSES[deciding_class(type(error))]
