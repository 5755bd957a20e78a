"""The gateway: the one door packets pass through, in and out.

Incoming bytes from any transport are decoded, checked against our own identity (addressed to
us?) and the date window, checked to speak for their creator (``owner_id`` is ``creator_id``
unless the command is in :data:`~bitdust.p2p.commands.OWNER_MAY_DIFFER`), checked for replays (a
packet already seen costs no fetch and no RSA work), verified against the creator's identity
(fetched into the cache when unknown; unknown creators are looked up a bounded few per sender
address at once, :mod:`bitdust.p2p.creator_lookups`, and a packet over that bound is dropped as
``busy``, not counted against its sender), checked for replays again (only verified packets are
remembered), and only then counted, reported to observers and handed to the handler a service
registered for the command. The cheap checks and what each refusal means are in
:mod:`bitdust.p2p.inbound_checks`. A verified packet whose creator signed with a newer identity
revision than the one we hold makes the cache refresh that identity (paced per identity). ``Ack``
and ``Fail`` settle our own outgoing packets instead. A command nobody handles is answered with
``Fail``, and a retried packet with the answer it got before (:mod:`bitdust.p2p.answers`), both
within an :class:`~bitdust.p2p.answer_budget.AnswerBudget` (each costs us a signature no handler
decided on). Nothing a peer sends can raise out of :meth:`Gateway.inbox`.

Outgoing packets are the :class:`~bitdust.p2p.outbox.Outbox`'s, which the gateway is.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.automats.registry import AutomatRegistry
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.collaborators import RunBlocking
from bitdust.main.logs import log_failure
from bitdust.p2p import commands
from bitdust.p2p import packet as packets
from bitdust.p2p.answer_budget import AnswerBudget
from bitdust.p2p.answers import AnswerMemory
from bitdust.p2p.collaborators import PeerIdentities, Transport
from bitdust.p2p.creator_lookups import CreatorLookups
from bitdust.p2p.errors import PacketError
from bitdust.p2p.inbound_checks import Refusal, precheck, verify_refusal
from bitdust.p2p.outbox import Outbox
from bitdust.p2p.packet import DEFAULT_LIMITS, Limits, Packet
from bitdust.p2p.packet_rows import incoming_row
from bitdust.p2p.replay import ReplayGuard
from bitdust.userid.identity import Identity

__all__ = ["NO_ACK", "Gateway", "Handler", "Refused", "Transport"]

NO_ACK = object()
"""A handler returns this when it answered the packet itself (or the command needs no answer)."""

Handler = Callable[[Packet, object], object]
"""``handler(packet, source)``: bytes (or None) to answer ``Ack`` with, :data:`NO_ACK`, or a Deferred of them.

``source`` is whatever connection object the transport handed the packet in with.
"""


class Refused(Exception):
    """Raised by a handler to answer ``Fail`` with this message."""


class Gateway(Outbox):
    """The outbox that also takes packets in; see the module docstring for what an incoming packet passes."""

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
        max_answers: int = 10_000,
        max_lookups_per_address: int = 4,
    ) -> None:
        super().__init__(
            clock=clock,
            identity=identity,
            signing_key=signing_key,
            cache=cache,
            run_blocking=run_blocking,
            automats=automats,
            log=log,
            limits=limits,
            default_timeout=default_timeout,
            default_retries=default_retries,
            history=history,
        )
        self.replays = ReplayGuard(clock, limits.max_skew, future_seconds=limits.max_future_skew)
        self.answer_budget = AnswerBudget(clock)
        self.handlers: dict[str, Handler] = {}
        #: the most recent packets accepted from peers, as ``packets_list`` rows
        self.recent_in: collections.deque[dict[str, Any]] = collections.deque(maxlen=history)
        #: our answer to each recent packet, so a retry gets the same answer; None while a handler runs
        self.answers = AnswerMemory(max_answers)
        self.lookups = CreatorLookups(max_lookups_per_address)

    @property
    def max_answers(self) -> int:
        return self.answers.max_answers

    @property
    def max_lookups_per_address(self) -> int:
        return self.lookups.max_per_address

    # -- registration -------------------------------------------------------------------------

    def register(self, command: str, handler: Handler) -> None:
        if command not in commands.COMMANDS or command in (commands.ACK, commands.FAIL):
            raise ValueError(f"cannot register a handler for {command!r}")
        if command in self.handlers:
            raise ValueError(f"{command} already has a handler")
        self.handlers[command] = handler

    def unregister(self, command: str) -> None:
        self.handlers.pop(command, None)

    # -- incoming -----------------------------------------------------------------------------

    def _refuse(self, refusal: Refusal, source: object, *, size: int) -> None:
        self.stats.refuse(refusal.label, size)
        where = getattr(source, "host", "?")
        self.log.info("dropped a packet from {where}: {reason}", where=where, reason=refusal.reason)
        report_garbage = getattr(source, "report_garbage", None)
        if refusal.garbage and report_garbage is not None:
            report_garbage(refusal.reason)

    def my_ids(self) -> set[str]:
        me = self.identity()
        return {source.url for source in me.sources} if me is not None else set()

    def inbox(self, data: bytes, source: object) -> defer.Deferred[None]:
        """Take raw bytes from a transport; ``source`` is the connection (``report_garbage``; it is never bound here)."""
        if self.stopped:
            return defer.succeed(None)
        try:
            packet = packets.decode(data, self.limits)
        except PacketError as exc:
            self._refuse(Refusal("malformed", exc.reason, garbage=True), source, size=len(data))
            return defer.succeed(None)
        # Checked before any fetch or RSA work.
        refusal = precheck(packet, my_ids=self.my_ids(), now=self.clock.seconds(), limits=self.limits)
        if refusal is not None:
            self._refuse(refusal, source, size=len(data))
            return defer.succeed(None)
        if self.replays.seen(packet) and not self._may_answer_again(packet):
            # Nothing to do for it even if it verified: drop it before any fetch or RSA work.
            self.stats.refuse("replay", len(data))
            return defer.succeed(None)
        verified = self._lookup_creator(packet.creator_id, source).addCallback(self._verify, packet)
        handled: defer.Deferred[None] = verified.addCallbacks(
            self._accepted,
            self._verify_failed,
            callbackArgs=(packet, len(data), source),
            errbackArgs=(packet, len(data), source),
        )
        # Our own bugs past verification are logged here, never left in a Deferred nobody holds.
        return handled.addErrback(log_failure(self.log, "handling a {command} packet failed", command=packet.command))

    def _may_answer_again(self, packet: Packet) -> bool:
        """A seen packet is worth verifying only if verified it would be answered again."""
        if packet.command in (commands.ACK, commands.FAIL):
            return False
        return self.answers.get(packet.creator_id, packet.packet_id) is not None and self.answer_budget.available(
            packet.creator_id
        )

    def _lookup_creator(self, idurl: str, source: object) -> defer.Deferred[Identity]:
        """The creator's identity for an incoming packet; a fetch when unknown, bounded per sender address."""
        known = self.cache.get(idurl)
        if known is not None:
            return defer.succeed(known)
        host = getattr(source, "host", None) or "?"
        return self.lookups.fetch(host, idurl, self.cache.fetch)

    def _verify(self, identity: Identity, packet: Packet) -> defer.Deferred[Identity]:
        now = self.clock.seconds()
        return self.run_blocking(
            packets.verify,
            packet,
            identity,
            now=now,
            skew=self.limits.max_skew,
            future_skew=self.limits.max_future_skew,
        ).addCallback(lambda _: identity)

    def _verify_failed(self, failure: Failure, packet: Packet, size: int, source: object) -> None:
        self._refuse(verify_refusal(failure, packet), source, size=size)

    def _accepted(self, identity: Identity, packet: Packet, size: int, source: object) -> defer.Deferred[None] | None:
        if self.stopped:
            return None
        peer = identity.idurl.url
        if self.replays.check_and_remember(packet):
            self.stats.refuse("replay", size)
            if packet.command not in (commands.ACK, commands.FAIL):
                # Probably our answer got lost and the sender retried: answer the same again, never act
                # twice. While the handler still runs there is nothing to repeat yet.
                answer = self.answers.get(packet.creator_id, packet.packet_id)
                if answer is not None:
                    self._answer_within_budget(packet, *answer, remember=False)
            return None
        self.stats.count("in", packet.command, peer, size)
        self.recent_in.append(incoming_row(packet, peer, size, source, self.clock.seconds()))
        if packet.creator_revision > identity.revision and packet.command != commands.IDENTITY:
            # The creator signed with a newer identity than ours: fetch it (paced by the cache, so a
            # claim its servers do not back costs little). An Identity packet carries the document.
            self.cache.refresh_if_older(packet.creator_id, packet.creator_revision).addErrback(
                log_failure(self.log, "refreshing the identity of {peer} failed", peer=peer)
            )
        # A verified packet never binds ``source`` to ``peer``: anyone can replay a signed packet on a
        # connection of their own. Transports bind a connection only to a peer that proved its key on
        # it (the TCP AUTH frame); answers to this packet go by the peer's own route.
        self._notify("inbox-packet", peer, packet)
        if packet.command in (commands.ACK, commands.FAIL):
            self.settle(packet, peer)
            return None
        self.answers.remember(packet.creator_id, packet.packet_id, None)
        handler = self.handlers.get(packet.command)
        if handler is None:
            self._answer_within_budget(packet, commands.FAIL, f"unknown command {packet.command}".encode())
            return None
        d: defer.Deferred[object] = defer.maybeDeferred(handler, packet, source)
        return d.addCallbacks(self._handled, self._handler_failed, callbackArgs=(packet,), errbackArgs=(packet,))

    # -- answering ----------------------------------------------------------------------------

    def _answer_within_budget(self, packet: Packet, command: str, payload: bytes, *, remember: bool = True) -> None:
        """Send an answer no handler decided on, if the creator's and the node's budget allow it.

        Over the budget the answer is still remembered, so a retry once the budget has refilled gets it.
        """
        if self.answer_budget.allow(packet.creator_id):
            self.reply(packet, command, payload, remember=remember)
            return
        if remember:
            self.answers.remember(packet.creator_id, packet.packet_id, (command, payload))
        self.stats.drop("answer-limited")

    def _handled(self, result: object, packet: Packet) -> None:
        if result is NO_ACK:
            return
        self.reply(packet, commands.ACK, result if isinstance(result, bytes) else b"")

    def _handler_failed(self, failure: Failure, packet: Packet) -> None:
        if failure.check(Refused, PacketError):
            reason = failure.getErrorMessage()
        else:
            self.log.failure("handler of {command} failed", failure, command=packet.command)
            reason = "internal error"
        self.reply(packet, commands.FAIL, reason.encode()[:1000])

    def reply(self, to: Packet, command: str, payload: bytes, *, remember: bool = True) -> None:
        """Answer ``to`` with Ack or Fail, best effort: nobody waits for an answer to an answer."""
        if remember:
            self.answers.remember(to.creator_id, to.packet_id, (command, payload))

        def failed(failure: Failure) -> None:
            self.log.info(
                "could not answer {command} {packet_id} to {peer}: {reason}",
                command=to.command,
                packet_id=to.packet_id,
                peer=to.creator_id,
                reason=failure.getErrorMessage(),
            )

        self.send(command, to.creator_id, payload, packet_id=to.packet_id, retries=0).addErrback(failed)

    def packets_json(self) -> list[dict[str, Any]]:
        """``packets_list`` rows: outgoing packets in flight, the recent finished ones, then recent incoming.

        Rows carry the original's fields (``direction``, ``command``, ``packet_id``, ``label``,
        ``target``, ...) beside ours (``state``, ``attempts``, ``error``, ...); ``in_flight`` tells
        the packets still waiting for an answer from the finished ones.
        """
        return self.outgoing_rows() + list(self.recent_in)
