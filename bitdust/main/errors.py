"""Domain errors of the engine core, and the shared ones it has always offered its callers.

The shared hierarchy lives in :mod:`bitdust.errors` (above every layer, so the state machine
runtime can use it); it is imported here under the names the engine's modules already use.
"""

from __future__ import annotations

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

__all__ = [
    "BitDustError",
    "InvalidInput",
    "Malformed",
    "Refused",
    "NotFound",
    "Conflict",
    "TooLarge",
    "LimitReached",
    "OutOfSpace",
    "InternalError",
    "RemoteFailure",
    "Unavailable",
    "Unreachable",
    "EngineLocked",
]


class EngineLocked(InternalError):
    """Another engine already runs on this home folder."""
