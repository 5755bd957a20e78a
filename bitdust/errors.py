"""The domain errors every layer shares, the state machine runtime included.

Every error a user can cause or observe subclasses :class:`BitDustError`; the API layer maps
``http_code`` to the HTTP status and the message to the envelope's ``errors`` list, in one place.
This module sits above every layer of ``bitdust/layers.py`` (it imports nothing of the project),
so ``automats``, at the top of the order, can raise them too.
"""

from __future__ import annotations


class BitDustError(Exception):
    """Base of all domain errors; ``http_code`` says how the API answers it."""

    http_code = 500

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors if errors is not None else [message]


class BadRequest(BitDustError):
    """Invalid or missing input: nothing was changed."""

    http_code = 400


class Unauthorized(BitDustError):
    http_code = 401


class Forbidden(BitDustError):
    http_code = 403


class NotFound(BitDustError):
    """An unknown route, key, service, machine or other named object."""

    http_code = 404


class Conflict(BitDustError):
    http_code = 409


class PayloadTooLarge(BitDustError):
    http_code = 413


class ServiceUnavailable(BitDustError):
    """The engine or a service is not in a state to do this right now."""

    http_code = 503
