"""One TCP connection and its life cycle: the ``tcp_connection`` machine (automats/tcp_connection.md).

The framing layer (:class:`~bitdust.transport.tcp.framing.FrameProtocol`) carries the frames; this
class adds what the connection knows about its peer, as the states of its machine: whether the
hello is in, whether we proved ourselves (the dialler does before its first packet), whether the
peer proved its key with an AUTH over our nonce, and whether the connection is still open for
packets. Packets themselves are opaque bytes handed to the owning transport in any state: the
gateway verifies them, and a verified packet never changes where we send (see
:mod:`bitdust.transport.tcp.connections`).

The owner is the connection pool (:class:`~bitdust.transport.tcp.connections.TcpTransport`), known
here only as :class:`ConnectionOwner`, the settings and calls a connection uses, so a test can drive
one connection with a recording fake owner and a ``StringTransport``.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure

from bitdust.transport.tcp import frames
from bitdust.transport.tcp.address import PROTO
from bitdust.transport.tcp.auth import AuthClaim, AuthFailed, ReceivedAuth
from bitdust.transport.tcp.connection_machine import TcpConnectionMachine
from bitdust.transport.tcp.packets import ConnectionOwner, PacketConnection

__all__ = ["ConnectionOwner", "TcpConnection"]

#: states in which an outgoing connection holds its packets back: its AUTH is not written yet
_HOLDING_PACKETS = frozenset({"AT_STARTUP", "GREETING", "PROVING", "CLAIM_HELD"})
#: states in which the peer's AUTH is being checked (or held, to be checked once ours is out)
_PROVING_PEER = frozenset({"CLAIM_HELD", "CHECKING"})


class TcpConnection(PacketConnection, TcpConnectionMachine):
    """One TCP connection, incoming or outgoing, and what it knows about its peer."""

    def __init__(self, owner: ConnectionOwner, direction: str, *, expected_peer: str | None = None) -> None:
        PacketConnection.__init__(self, owner, direction, expected_peer=expected_peer)
        TcpConnectionMachine.__init__(self, clock=owner.clock, instance_id=f"tcp_connection[{direction}]")
        #: the primary IDURL the peer proved, whether or not the connection is bound to it
        self.authenticated: str | None = None
        #: the peer's AUTH claim, once one arrived (at most one per connection)
        self.auth_claim: AuthClaim | None = None
        self._proof_waiters: list[defer.Deferred[None]] = []

    @property
    def ready(self) -> bool:
        """Packets may be written: always on a connection we accepted, after our AUTH on one we dialled."""
        return self.direction == "in" or self.state not in _HOLDING_PACKETS

    # -- what the socket and the framing layer tell us ---------------------------------------------

    def connectionMade(self) -> None:
        super().connectionMade()
        self.made()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.lost(reason=reason)

    def _hello(self, peer_nonce: bytes) -> None:
        self.hello(nonce=peer_nonce)

    def _auth(self, body: bytes) -> None:
        self.auth(received=ReceivedAuth.decode(body))

    def _goodbye(self, reason: str) -> None:
        super()._goodbye(reason)
        self.closing()

    def close(self, goodbye: bytes) -> None:
        """Say goodbye (``frames.GOODBYE_*``) and close once everything queued is written."""
        super().close(goodbye)
        self.closing()

    def drop(self) -> None:
        """Abort the connection now, without a goodbye."""
        super().drop()
        self.closing()

    # -- conditions ---------------------------------------------------------------------------------

    def is_outgoing(self, *, nonce: bytes | None = None, idurl: str | None = None) -> bool:
        return self.direction == "out"

    def is_malformed(self, *, received: ReceivedAuth) -> bool:
        return received.claim is None

    def is_checkable(self, *, received: ReceivedAuth) -> bool:
        return self.owner.authenticator is not None

    def is_expected_prover(self, *, idurl: str) -> bool:
        """The dialled IDURL proved itself, by its primary IDURL or the source it signed as."""
        claim = self.auth_claim
        return self.peer is not None and (self.peer == idurl or (claim is not None and self.peer == claim.signer))

    def is_hostile(self, *, failure: Failure) -> bool:
        return isinstance(failure.value, AuthFailed) and failure.value.hostile

    # -- actions: the life cycle -----------------------------------------------------------------

    def do_register(self) -> None:
        self._arm_idle()
        self.owner._opened(self)

    def do_release(self, *, reason: Failure) -> None:
        """The socket closed: timers, held bytes and waiters go; the pool forgets the connection."""
        self._release()
        self.do_settle_proof()
        self.owner._closed(self, reason)

    # -- actions: our proof ---------------------------------------------------------------------

    def do_sign_auth(self, *, nonce: bytes | None = None, idurl: str | None = None) -> None:
        """Sign the peer's nonce for the IDURL we address and write our AUTH; ``signed`` follows."""
        authenticator = self.owner.authenticator
        peer_nonce = self.decoder.peer_nonce
        claim = self.auth_claim
        verifier = self.peer if self.direction == "out" else (claim.signer if claim is not None else None)
        if authenticator is None or verifier is None or peer_nonce is None:
            self.signed()
            return

        def send(body: bytes | None) -> None:
            if body is not None and self.is_open:
                self._write(frames.FrameType.AUTH, 0, body)

        def failed(failure: Failure) -> None:
            self.owner.log.failure("signing our tcp proof to {peer} failed", failure, peer=verifier)

        d = authenticator.sign(verifier=verifier, verifier_nonce=peer_nonce, signer_nonce=self.nonce)
        d.addCallbacks(send, failed)
        d.addBoth(lambda _: self.signed())

    def do_release_sends(self) -> None:
        """Our AUTH is out (or we had none): the packets held back go now."""
        self._release_sends()

    # -- actions: the peer's proof -----------------------------------------------------------------

    def do_keep_claim(self, *, received: ReceivedAuth) -> None:
        self.auth_claim = received.claim

    def do_verify_claim(self, *, received: ReceivedAuth | None = None) -> None:
        """Check the kept claim against the signer's identity; ``proof-ok`` or ``refused`` follows."""
        claim, authenticator = self.auth_claim, self.owner.authenticator
        # A claim is only kept for checking when there is an authenticator (is_checkable, or the
        # dialler was signing with it when the claim came).
        assert claim is not None and authenticator is not None
        d = authenticator.verify(claim, my_nonce=self.nonce, peer_nonce=self.decoder.peer_nonce or b"")
        d.addCallbacks(lambda idurl: self.proof_ok(idurl=idurl), lambda f: self.refused(failure=f))
        d.addErrback(lambda f: self.owner.log.failure("handling a tcp proof failed", f))

    def do_accept_proof(self, *, idurl: str) -> None:
        self.authenticated = idurl
        self.trust_account()

    def do_bind_prover(self, *, idurl: str) -> None:
        """The peer dialled us and proved ``idurl``: our packets for it go here."""
        self.owner.bind(self, idurl)

    def do_bind_dialled(self, *, idurl: str) -> None:
        """The peer we dialled proved to be the one we meant to reach."""
        assert self.peer is not None  # is_expected_prover
        self.owner.bind(self, self.peer)

    def do_report_unexpected(self, *, idurl: str) -> None:
        self.owner.log.info(
            "tcp peer {host}:{port} proved to be {idurl}, not {expected}; not bound",
            host=self.host,
            port=self.port,
            idurl=idurl,
            expected=self.peer,
        )

    def do_report_refused(self, *, failure: Failure) -> None:
        if not isinstance(failure.value, AuthFailed):
            self.owner.log.failure("handling a tcp proof failed", failure)
            return
        self.owner.auth_refused += 1
        self.owner.log.info(
            "tcp peer {host}:{port} did not prove {signer}: {reason}",
            host=self.host,
            port=self.port,
            signer=self.auth_claim.signer if self.auth_claim else "?",
            reason=failure.getErrorMessage(),
        )

    def do_drop_hostile(self, *, failure: Failure) -> None:
        self.violation("bad-auth")

    def do_report_malformed(self, *, received: ReceivedAuth) -> None:
        self.violation(received.problem)

    def do_report_repeated(self, *, received: ReceivedAuth) -> None:
        self.violation("repeated-auth")

    def do_settle_proof(self, *, idurl: str | None = None, failure: Failure | None = None) -> None:
        """The peer's proof is settled (or never will be): sends waiting on it go on."""
        waiters, self._proof_waiters = self._proof_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def proving(self, idurl: str) -> defer.Deferred[None] | None:
        """A Deferred fired when this connection's pending proof of ``idurl`` is settled, else None."""
        claim = self.auth_claim
        if self.state not in _PROVING_PEER or claim is None or claim.signer != idurl or not self.is_open:
            return None
        waiter: defer.Deferred[None] = defer.Deferred()
        self._proof_waiters.append(waiter)
        return waiter

    def _deliver(self, data: bytes) -> None:
        self.packets_in += 1
        self.touched()
        self.owner.on_packet(data, self)

    def to_json(self) -> dict[str, Any]:
        return {
            "proto": PROTO,
            "status": "active" if self.is_open else "closed",
            "state": "CONNECTED" if self.is_open else "CLOSED",
            "direction": self.direction,
            "host": f"{self.host}:{self.port}",
            "idurl": self.peer,
            "verified": self.verified,
            "authenticated": self.authenticated,
            "started": self.started,
            "idle_seconds": round(self.owner.clock.seconds() - self.last_packet, 3),
            "bytes_sent": self.stats.bytes_out,
            "bytes_received": self.stats.bytes_in,
            "packets_sent": self.packets_out,
            "packets_received": self.packets_in,
        }
