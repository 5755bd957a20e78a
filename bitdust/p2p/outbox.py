"""The sending half of the gateway: our packets, from building them to the answer that settles them.

Each outgoing packet is a :class:`~bitdust.p2p.packet_out.PacketOut` machine. The outbox builds
the packet, signs and encodes it (in a worker thread: RSA and hashing a large payload are blocking
work), picks a transport from the receiver's identity contacts and keeps the packets that wait for
an answer, so the peer's ``Ack`` or ``Fail`` finds them. An attempt that finds no route or fails
asks :meth:`Outbox.refresh_identity` for a fresher copy of the receiver's identity first.

:class:`~bitdust.p2p.gateway.Gateway` is an outbox that also takes packets in; the receiving
half hands the answers it verified to :meth:`Outbox.settle`. Observers hear of both halves.
"""

from __future__ import annotations

import collections
import itertools
import secrets
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.automats.registry import AutomatRegistry
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.collaborators import RunBlocking
from bitdust.p2p import commands
from bitdust.p2p import packet as packets
from bitdust.p2p.collaborators import Observer, PeerIdentities, Transport
from bitdust.p2p.errors import DeliveryFailed
from bitdust.p2p.packet import DEFAULT_LIMITS, Limits, Packet
from bitdust.p2p.packet_out import PacketOut
from bitdust.p2p.packet_rows import outgoing_row
from bitdust.p2p.traffic import TrafficStats, Transfer
from bitdust.userid.identity import Identity


class Outbox:
    """``identity()`` is our current Identity (or None); ``signing_key()`` our master RsaKey (or None)."""

    def __init__(
        self,
        *,
        clock: IReactorTime,
        identity: Callable[[], Identity | None],
        signing_key: Callable[[], RsaKey | None],
        cache: PeerIdentities,
        run_blocking: RunBlocking,
        automats: AutomatRegistry | None = None,
        log: Logger | None = None,
        limits: Limits = DEFAULT_LIMITS,
        default_timeout: float = 15.0,
        default_retries: int = 2,
        history: int = 100,
    ) -> None:
        self.clock = clock
        self.identity = identity
        self.signing_key = signing_key
        self.cache = cache
        self.run_blocking = run_blocking
        self.automats = automats
        self.log = log or Logger()
        self.limits = limits
        self.default_timeout = default_timeout
        self.default_retries = default_retries
        self.stats = TrafficStats()
        self.transports: dict[str, Transport] = {}
        #: ``observer(event, idurl, detail)``: "inbox-packet", "outbox-failed", "outbox-refused", "outbox-done"
        self.observers: list[Observer] = []
        self.outgoing: dict[tuple[str, str], PacketOut] = {}
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=history)
        self._ids = itertools.count(1)
        self._transfer_ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self.stopped = False

    def add_transport(self, transport: Transport) -> None:
        self.transports[transport.proto] = transport

    def remove_transport(self, proto: str) -> None:
        self.transports.pop(proto, None)

    def _notify(self, event: str, idurl: str, detail: object = None) -> None:
        for observer in list(self.observers):
            try:
                observer(event, idurl, detail)
            except Exception:
                self.log.failure("gateway observer failed on {event}", event=event)

    def new_packet_id(self) -> str:
        return f"{self._prefix}{next(self._ids):x}"

    def send(
        self,
        command: str,
        remote_id: str,
        payload: bytes = b"",
        *,
        packet_id: str | None = None,
        key_id: str = "",
        timeout: float | None = None,
        retries: int | None = None,
    ) -> defer.Deferred[Packet | None]:
        """Send a packet and fire with the peer's Ack (DeliveryFailed on Fail, timeout or no route)."""
        if self.stopped:
            return defer.fail(DeliveryFailed("the gateway is stopped", reason="cancelled"))
        me = self.identity()
        if me is None:
            return defer.fail(DeliveryFailed("this node has no identity yet", reason="identity"))
        packet = Packet(
            command=command,
            owner_id=me.idurl.url,
            creator_id=me.idurl.url,
            packet_id=packet_id or self.new_packet_id(),
            date=self.clock.seconds(),
            payload=payload,
            remote_id=self.cache.resolve(remote_id).url,
            key_id=key_id,
            creator_revision=me.revision,
        )
        out = PacketOut(
            self,
            packet,
            timeout=self.default_timeout if timeout is None else timeout,
            retries=self.default_retries if retries is None else retries,
            clock=self.clock,
            registry=self.automats,
            log=self.log,
        )
        if out.is_ack_wanted():
            key = (packet.packet_id, packet.remote_id)
            if key in self.outgoing:
                out.destroy()
                return defer.fail(DeliveryFailed(f"packet {packet.packet_id} is already in flight", reason="failed"))
            self.outgoing[key] = out
        result = out.result
        out.run()
        return result

    # -- what each PacketOut asks of us (bitdust.p2p.packet_out.PacketOutGateway) ----------------

    def prepare(self, packet: Packet) -> defer.Deferred[tuple[Packet, bytes, Identity]]:
        """Find the receiver's identity and sign and encode the packet; fires ``(packet, wire, identity)``."""
        key = self.signing_key()
        if key is None:
            return defer.fail(DeliveryFailed("this node has no master key", reason="identity"))

        def sign_and_encode() -> tuple[Packet, bytes]:
            signed = packets.sign(packet, key)
            return signed, packets.encode(signed, self.limits)

        identity_d = self._receiver_identity(packet.remote_id)
        identity_d.addErrback(
            lambda f: Failure(
                DeliveryFailed(
                    f"identity of {packet.remote_id} is not available: {f.getErrorMessage()}", reason="identity"
                )
            )
        )
        signed_d = self.run_blocking(sign_and_encode)
        # gatherResults gives one result type to all its Deferreds; these two differ, hence list[Any].
        both: defer.Deferred[list[Any]] = defer.gatherResults([signed_d, identity_d], consumeErrors=True)
        both.addErrback(_first_error)
        return both.addCallback(lambda results: (results[0][0], results[0][1], results[1]))

    def _receiver_identity(self, idurl: str) -> defer.Deferred[Identity]:
        known = self.cache.get(idurl)
        if known is not None:
            return defer.succeed(known)
        return self.cache.fetch(idurl)

    def refresh_identity(self, idurl: str, *, reason: str = "") -> defer.Deferred[Identity | None]:
        """Re-fetch the receiver's identity (paced by the cache); fires with the identity held after."""
        return self.cache.refresh(idurl, reason=reason)

    def route(self, identity: Identity) -> tuple[Transport, str] | None:
        """The first contact of the peer's identity that one of our transports can reach."""
        for contact in identity.contacts:
            proto = contact.split("://", 1)[0]
            transport = self.transports.get(proto)
            if transport is not None:
                return transport, contact
        return None

    def transmit(
        self, packet: Packet, wire: bytes, identity: Identity, transfers: list[Transfer] | None = None
    ) -> defer.Deferred[None]:
        """Hand ``wire`` to the transport that reaches ``identity``; the attempt is added to ``transfers``."""
        route = self.route(identity)
        if route is None:
            offered = ", ".join(identity.contacts) or "none"
            return defer.fail(
                DeliveryFailed(f"no transport reaches {packet.remote_id} (its contacts: {offered})", reason="no-route")
            )
        transport, contact = route
        self.stats.count("out", packet.command, identity.idurl.url, len(wire))
        d = transport.send(identity.idurl.url, contact, wire)
        if transfers is None:
            return d
        transfer = Transfer(
            transfer_id=f"{self._prefix}-t{next(self._transfer_ids):x}",
            proto=transport.proto,
            host=contact.split("://", 1)[-1],
            size=len(wire),
        )
        transfers.append(transfer)

        def sent(result: None) -> None:
            transfer.bytes_sent = transfer.size
            return result

        def failed(failure: Failure) -> Failure:
            transfer.error = failure.getErrorMessage()
            return failure

        return d.addCallbacks(sent, failed)

    def finished(self, out: PacketOut) -> None:
        key = (out.packet.packet_id, out.packet.remote_id)
        if self.outgoing.get(key) is out:
            del self.outgoing[key]
        self.recent.append(out.to_json())
        self.stats.settled(delivered=out.state == "DONE", receiver_known=out.remote_identity is not None)
        # Observers know peers by their identity's primary IDURL, as inbox events name them.
        peer = out.remote_identity.idurl.url if out.remote_identity is not None else out.packet.remote_id
        if out.state == "FAILED" and out.is_ack_wanted() and out.response is not None:
            # The peer answered Fail: it refused the packet, and is online to say so.
            self._notify("outbox-refused", peer, out.error)
        elif out.state == "FAILED" and out.is_ack_wanted():
            self._notify("outbox-failed", peer, out.error)
        elif out.state == "DONE":
            self._notify("outbox-done", peer, out)

    # -- answers from peers -----------------------------------------------------------------------

    def settle(self, answer: Packet, peer: str) -> None:
        """A verified ``Ack`` or ``Fail`` from ``peer``: hand it to the packet it answers, if still in flight."""
        out = self.outgoing.get((answer.packet_id, peer)) or self._find_addressed_otherwise(answer)
        if out is None:
            self.stats.drop("late-answer")
            return
        if answer.command == commands.ACK:
            out.ack(packet=answer)
        else:
            out.fail(packet=answer)

    def _find_addressed_otherwise(self, answer: Packet) -> PacketOut | None:
        """An answer to a packet we addressed to another source of the peer, or to an IDURL that has
        since become an alias of its current one.

        It settles the packet only when its creator and the packet's receiver are bound to the same
        key. Both are looked up in the cache, which answers only by *bound* sources (and by IDURLs
        their owner rotated away from): a source the receiver's document merely lists is a claim,
        possibly a name somebody else holds on that server, and an answer created under it must not
        settle a packet we sent to her.
        """
        answered_by = self.cache.get(answer.creator_id)
        if answered_by is None:
            return None
        for (packet_id, _peer), out in self.outgoing.items():
            if packet_id != answer.packet_id:
                continue
            receiver = self.cache.get(out.packet.remote_id)
            if receiver is not None and receiver.public_key == answered_by.public_key:
                return out
        return None

    def stop(self) -> None:
        """Cancel everything in flight; the engine is going down."""
        self.stopped = True
        for out in list(self.outgoing.values()):
            out.cancel()
        self.outgoing.clear()

    def outgoing_rows(self) -> list[dict[str, Any]]:
        """``packets_list`` rows of our packets: the ones in flight, then the recent finished ones."""
        flying = [outgoing_row(out.to_json(), in_flight=True) for out in self.outgoing.values()]
        finished = [outgoing_row(info, in_flight=False) for info in self.recent]
        return flying + finished


def _first_error(failure: Failure) -> Failure:
    """The failure of whichever of the gathered Deferreds failed first (not the FirstError around it)."""
    error = failure.value
    return error.subFailure if isinstance(error, defer.FirstError) else failure
