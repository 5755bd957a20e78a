"""Errors of the DHT: what a bad datagram, a bad record or a failed RPC raises."""

from __future__ import annotations

from bitdust.main.errors import InternalError, InvalidInput, Malformed, RemoteFailure, Unreachable


class DhtError(InternalError):
    """Base of the DHT's own errors."""


class MessageError(Malformed, DhtError):
    """A datagram that is not a well-formed message of our protocol (it is dropped and counted)."""


class RpcError(RemoteFailure, DhtError):
    """The remote node answered a request with an error (``code`` names it)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"remote error {code}: {detail}" if detail else f"remote error {code}")
        self.code = code
        self.detail = detail


class RpcTimeout(Unreachable, DhtError):
    """No answer within the RPC timeout: the node is treated as (possibly) dead."""


class RecordError(InvalidInput):
    """A record breaks a rule of its type; ``rule`` names the rule, so the API answer can say which."""

    def __init__(self, record_type: str, rule: str, detail: str) -> None:
        super().__init__(f"{record_type} record breaks rule {rule!r}: {detail}")
        self.record_type = record_type
        self.rule = rule
        self.detail = detail
