"""packet_out: one outgoing packet, from signing to the peer's Ack (see automats/packet_out.md)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.automats.runtime import Automat
from bitdust.p2p import commands
from bitdust.p2p.errors import DeliveryFailed
from bitdust.p2p.packet import Packet
from bitdust.p2p.packet_out_machine import PacketOutMachine
from bitdust.p2p.traffic import Transfer
from bitdust.userid.identity import Identity


@runtime_checkable
class PacketOutGateway(Protocol):
    """What one outgoing packet needs of the node's gateway, and nothing more.

    :class:`~bitdust.p2p.outbox.Outbox` (and so the gateway) satisfies it structurally; naming only these
    calls keeps ``packet_out`` from importing the outbox (which imports ``packet_out``), and lets a test drive
    the machine with a small recording fake. Every call goes through ``maybeDeferred``, so each
    may answer at once or with a Deferred.
    """

    def prepare(
        self, packet: Packet, /
    ) -> defer.Deferred[tuple[Packet, bytes, Identity]] | tuple[Packet, bytes, Identity]:
        """Sign and encode ``packet`` and find its receiver: ``(signed packet, wire bytes, identity)``."""
        ...

    def transmit(
        self, packet: Packet, wire: bytes, identity: Identity, transfers: list[Transfer], /
    ) -> defer.Deferred[None] | None:
        """Hand one attempt to a transport, recording it in ``transfers``; fails when it cannot."""
        ...

    def refresh_identity(self, idurl: str, /, *, reason: str) -> defer.Deferred[Identity | None] | Identity | None:
        """Re-fetch the receiver's identity after a failed attempt; answers the identity held after."""
        ...

    def route(self, identity: Identity, /) -> object | None:
        """A way to reach ``identity`` with one of this node's transports, or None."""
        ...

    def finished(self, out: PacketOut, /) -> None:
        """``out`` settled (delivered, failed or cancelled): forget it and report it."""
        ...


class PacketOut(PacketOutMachine):
    """``result`` fires with the answering Ack packet (or None for Ack/Fail we send), or DeliveryFailed."""

    def __init__(
        self, gateway: PacketOutGateway, packet: Packet, *, timeout: float, retries: int, **kwargs: Any
    ) -> None:
        super().__init__(instance_id=f"packet_out[{packet.command}:{packet.packet_id}]", **kwargs)
        self.gateway = gateway
        self.packet = packet
        self.timeout = timeout
        self.retries = retries
        self.attempts = 0
        self.created = self.clock.seconds()
        self.attempt_started = self.created
        self.finished: float | None = None
        self.response: Packet | None = None
        self.error: str | None = None
        self.wire: bytes | None = None
        self.remote_identity: Identity | None = None
        #: each attempt handed to a transport (``packets_list`` shows them as ``items``)
        self.transfers: list[Transfer] = []
        #: how many failed attempts refreshed the receiver's identity
        self.refreshes = 0
        #: contacts of the receiver's identity before the last refresh
        self._contacts_before: tuple[str, ...] = ()
        self._last_failure: Failure | None = None
        self.result: defer.Deferred[Packet | None] = defer.Deferred(lambda _d: self.cancel())
        self.add_state_changed_callback(self._check_settled)

    @property
    def attempt_timeout(self) -> float:
        return self.timeout / (1 + self.retries)

    # -- conditions ---------------------------------------------------------------------------

    def is_ack_wanted(self) -> bool:
        return self.packet.command not in (commands.ACK, commands.FAIL)

    def is_retry_left(self) -> bool:
        return self.attempts <= self.retries

    def is_route_changed(self) -> bool:
        """The refreshed identity has other contacts than before, and one of them is reachable."""
        identity = self.remote_identity
        if identity is None or tuple(identity.contacts) == self._contacts_before:
            return False
        return self.gateway.route(identity) is not None

    # -- actions ------------------------------------------------------------------------------

    def do_prepare(self) -> None:
        d = defer.maybeDeferred(self.gateway.prepare, self.packet)

        def prepared(result: tuple[Packet, bytes, Identity]) -> None:
            self.packet, self.wire, self.remote_identity = result
            self.prepared()

        def failed(failure: Failure) -> None:
            self.error = failure.getErrorMessage()
            self.prepare_failed(failure=failure)

        d.addCallbacks(prepared, failed)

    def do_send(self) -> None:
        assert self.wire is not None and self.remote_identity is not None, "do_send runs only once prepared"
        self.attempts += 1
        self.attempt_started = self.clock.seconds()
        d = defer.maybeDeferred(self.gateway.transmit, self.packet, self.wire, self.remote_identity, self.transfers)
        d.addCallbacks(lambda _: self.sent(), lambda failure: self.send_failed(failure=failure))

    def do_refresh_identity(self, *, failure: Failure | None = None) -> None:
        """Ask the identity cache to re-fetch the receiver; ``refreshed`` follows, whatever it found.

        ``failure`` is why the attempt could not be sent; an attempt that timed out has none.
        """
        if failure is not None:
            self._last_failure = failure
            self.error = failure.getErrorMessage()
        self.refreshes += 1
        known = self.remote_identity
        self._contacts_before = tuple(known.contacts) if known is not None else ()
        why = self.error or f"no answer to attempt {self.attempts}"
        d = defer.maybeDeferred(self.gateway.refresh_identity, self.packet.remote_id, reason=why)

        def refreshed(identity: Any) -> None:
            if identity is not None:
                self.remote_identity = identity
            if not self.destroyed:
                self.refreshed()

        def failed(failure: Failure) -> None:
            # The cache's refresh never fails; anything else is a bug, told to the caller as one.
            if not self.destroyed:
                self.error = f"refreshing the identity of {self.packet.remote_id} failed: {failure.getErrorMessage()}"
                self.refreshed()

        d.addCallbacks(refreshed, failed)

    def do_wait_attempt(self) -> None:
        remaining = self.attempt_started + self.attempt_timeout - self.clock.seconds()
        self.start_deadline("attempt-timeout", remaining)

    def do_report_done(self, *, packet: Packet | None = None) -> None:
        """Delivered: ``packet`` is the peer's Ack, or None when what we sent wants no answer."""
        self.response = packet
        self._finish()
        self.result.callback(self.response)

    def do_report_failed(self, *, failure: Failure | None = None, packet: Packet | None = None) -> None:
        """The peer answered Fail (``packet``), preparing failed (``failure``), or a refresh found
        no way to the receiver (neither: the failure to report is the last attempt's)."""
        if packet is not None:
            self.response = packet
            detail = packet.payload.decode("utf-8", "replace")[:200] or "no reason given"
            self.error = f"{self.packet.remote_id} answered Fail to {self.packet.command}: {detail}"
            self._fail("failed", detail=detail)
            return
        failure = failure if failure is not None else self._last_failure
        if failure is not None and failure.check(DeliveryFailed):
            self.error = failure.getErrorMessage()
            reason = failure.value.reason
        else:
            detail = failure.getErrorMessage() if failure is not None else (self.error or "unknown error")
            self.error = f"{self.packet.command} to {self.packet.remote_id} could not be sent: {detail}"
            reason = "refused"
        self._fail(reason)

    def do_report_timeout(self) -> None:
        last = f" (last error: {self.error})" if self.error else ""
        self.error = (
            f"{self.packet.remote_id} did not answer {self.packet.command} within {self.timeout:g} s "
            f"({self.attempts} attempt{'s' if self.attempts != 1 else ''}){last}"
        )
        self._fail("timeout")

    def do_report_cancelled(self) -> None:
        self.error = f"{self.packet.command} to {self.packet.remote_id} was cancelled"
        self._fail("cancelled")

    # -- helpers ------------------------------------------------------------------------------

    def _check_settled(self, _machine: Automat, _old: str, new: str, _event: str) -> None:
        """A bug in an action lands in FAILED without its report; the caller must still hear of it."""
        if new == "FAILED" and self.finished is None:
            error = self.last_error
            self.error = f"internal error while sending {self.packet.command}: {error!r}"
            self.clock.callLater(0, self._fail, "failed")

    def _finish(self) -> None:
        self.finished = self.clock.seconds()
        self.gateway.finished(self)
        self.destroy()

    def _fail(self, reason: str, *, detail: str | None = None) -> None:
        self._finish()
        if not self.result.called:
            self.result.errback(DeliveryFailed(self.error or reason, reason=reason, detail=detail))

    def to_json(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else self.clock.seconds()
        return {
            **super().to_json(),
            "packet_id": self.packet.packet_id,
            "command": self.packet.command,
            "remote_id": self.packet.remote_id,
            "size": len(self.wire) if self.wire is not None else None,
            "attempts": self.attempts,
            "refreshes": self.refreshes,
            "timeout": self.timeout,
            "retries": self.retries,
            "created": self.created,
            "duration": round(end - self.created, 6),
            "error": self.error,
            "items": [transfer.to_json() for transfer in self.transfers],
        }
