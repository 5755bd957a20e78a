"""Domain errors of the engine core, and the shared ones it has always offered its callers.

The shared hierarchy lives in :mod:`bitdust.errors` (above every layer, so the state machine
runtime can use it); it is imported here under the names the engine's modules already use.
"""

from __future__ import annotations

from bitdust.errors import (
    BadRequest,
    BitDustError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
)

__all__ = [
    "BitDustError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "EngineLocked",
]


class EngineLocked(BitDustError):
    """Another engine already runs on this home folder."""
