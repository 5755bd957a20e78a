"""Errors of the customer side, each derived from a kind of bitdust/errors.py."""

from __future__ import annotations

from bitdust.errors import InternalError, NotFound, Refused


class CustomerError(InternalError):
    """Root of the customer side's own errors."""


class SupplierRefused(Refused, CustomerError):
    """A supplier answered our RequestService with a Fail; ``reason`` is its message, to show the user."""

    def __init__(self, supplier_id: str, reason: str) -> None:
        super().__init__(f"{supplier_id} refused service_supplier: {reason}")
        self.supplier_id = supplier_id
        self.reason = reason


class SupplierNotFound(NotFound, CustomerError):
    """No node could be offered a position: the search ran out of tries; the message says why."""
