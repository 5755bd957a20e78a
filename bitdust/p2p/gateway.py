"""The gateway: the one door packets pass through, in and out.

Incoming bytes from any transport are decoded, checked against our own identity (addressed to
us?) and the date window, checked to speak for their creator (``owner_id`` is ``creator_id``
unless the command is in :data:`~bitdust.p2p.commands.OWNER_MAY_DIFFER`), checked for replays (a
packet already seen costs no fetch and no RSA work), verified against the creator's identity
(fetched into the cache when unknown; unknown creators are looked up a bounded few per sender
address at once, and a packet over that bound is dropped as ``busy``, not counted against its
sender), checked for replays again (only verified packets are remembered), and only then counted,
reported to observers and handed to the handler a service registered for the command. A verified
packet whose creator signed with a newer identity revision than the one we hold makes the cache
refresh that identity (paced per identity). ``Ack`` and ``Fail`` settle our own outgoing packets
instead. A command nobody handles is answered with ``Fail``, and a retried packet with the answer
it got before, both within an :class:`~bitdust.p2p.answer_budget.AnswerBudget` (each costs us a
signature no handler decided on). Nothing a peer sends can raise out of :meth:`inbox`.

Outgoing packets are :class:`~bitdust.p2p.packet_out.PacketOut` machines; the gateway signs them
(in a worker thread: RSA and hashing a large payload are blocking work), picks a transport from
the receiver's identity contacts and keeps the ones in flight so answers find them. An attempt
that finds no route or fails asks :meth:`Gateway.refresh_identity` for a fresher copy first.
"""

from __future__ import annotations

import collections
import itertools
import secrets
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.main.logs import log_failure
from bitdust.p2p import commands
from bitdust.p2p import packet as packets
from bitdust.p2p.answer_budget import AnswerBudget
from bitdust.p2p.errors import DeliveryFailed, PacketError
from bitdust.p2p.packet import DEFAULT_LIMITS, Limits, Packet
from bitdust.p2p.packet_out import PacketOut
from bitdust.p2p.replay import ReplayGuard
from bitdust.p2p.traffic import TrafficStats, Transfer
from bitdust.userid.errors import IdentityFetchError

NO_ACK = object()
"""A handler returns this when it answered the packet itself (or the command needs no answer)."""

Handler = Callable[[Packet, Any], Any]


class Transport(Protocol):
    proto: str

    def send(self, idurl: str, contact: str, data: bytes) -> defer.Deferred[None]: ...


class Refused(Exception):
    """Raised by a handler to answer ``Fail`` with this message."""


class Gateway:
    """``identity()`` is our current Identity (or None); ``signing_key()`` our master RsaKey."""

    def __init__(
        self,
        *,
        clock: Any,
        identity: Callable[[], Any],
        signing_key: Callable[[], Any],
        cache: Any,
        run_blocking: Callable[..., defer.Deferred[Any]],
        automats: Any = None,
        log: Logger | None = None,
        limits: Limits = DEFAULT_LIMITS,
        default_timeout: float = 15.0,
        default_retries: int = 2,
        history: int = 100,
        max_answers: int = 10_000,
        max_lookups_per_address: int = 4,
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
        self.replays = ReplayGuard(clock, limits.max_skew, future_seconds=limits.max_future_skew)
        self.answer_budget = AnswerBudget(clock)
        self.stats = TrafficStats()
        self.transports: dict[str, Transport] = {}
        self.handlers: dict[str, Handler] = {}
        #: ``observer(event, idurl, detail)``: "inbox-packet", "outbox-failed", "outbox-done"
        self.observers: list[Callable[[str, str, Any], object]] = []
        self.outgoing: dict[tuple[str, str], PacketOut] = {}
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=history)
        #: the most recent packets accepted from peers, as ``packets_list`` rows
        self.recent_in: collections.deque[dict[str, Any]] = collections.deque(maxlen=history)
        #: our answer to each recent packet, so a retry gets the same answer; None while a handler runs
        self.answers: collections.OrderedDict[tuple[str, str], tuple[str, bytes] | None] = collections.OrderedDict()
        self.max_answers = max_answers
        self.max_lookups_per_address = max_lookups_per_address
        #: unknown creators being fetched, by the address of the packets that named them
        self._lookups: dict[str, set[str]] = {}
        self._ids = itertools.count(1)
        self._transfer_ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self.stopped = False

    # -- registration -------------------------------------------------------------------------

    def add_transport(self, transport: Transport) -> None:
        self.transports[transport.proto] = transport

    def remove_transport(self, proto: str) -> None:
        self.transports.pop(proto, None)

    def register(self, command: str, handler: Handler) -> None:
        if command not in commands.COMMANDS or command in (commands.ACK, commands.FAIL):
            raise ValueError(f"cannot register a handler for {command!r}")
        if command in self.handlers:
            raise ValueError(f"{command} already has a handler")
        self.handlers[command] = handler

    def unregister(self, command: str) -> None:
        self.handlers.pop(command, None)

    def _notify(self, event: str, idurl: str, detail: Any = None) -> None:
        for observer in list(self.observers):
            try:
                observer(event, idurl, detail)
            except Exception:
                self.log.failure("gateway observer failed on {event}", event=event)

    # -- incoming -----------------------------------------------------------------------------

    def _refuse(self, label: str, reason: str, source: Any, *, size: int, garbage: bool) -> None:
        self.stats.refuse(label, size)
        where = getattr(source, "host", "?")
        self.log.info("dropped a packet from {where}: {reason}", where=where, reason=reason)
        if garbage and hasattr(source, "report_garbage"):
            source.report_garbage(reason)

    def my_ids(self) -> set[str]:
        me = self.identity()
        return {source.url for source in me.sources} if me is not None else set()

    def inbox(self, data: bytes, source: Any) -> defer.Deferred[None]:
        """Take raw bytes from a transport; ``source`` is the connection (``report_garbage``; it is never bound here)."""
        if self.stopped:
            return defer.succeed(None)
        try:
            packet = packets.decode(data, self.limits)
        except PacketError as exc:
            self._refuse("malformed", exc.reason, source, size=len(data), garbage=True)
            return defer.succeed(None)
        if packet.remote_id not in self.my_ids():
            self._refuse(
                "not-for-us",
                f"{packet.command} is addressed to {packet.remote_id}",
                source,
                size=len(data),
                garbage=False,
            )
            return defer.succeed(None)
        now = self.clock.seconds()
        if not now - self.limits.max_skew <= packet.date <= now + self.limits.max_future_skew:
            # Checked before any fetch or RSA work; a peer with a wrong clock is not an attacker.
            self._refuse(
                "stale",
                f"{packet.command} from {packet.creator_id} is dated {packet.date}",
                source,
                size=len(data),
                garbage=False,
            )
            return defer.succeed(None)
        if packet.owner_id != packet.creator_id and packet.command not in commands.OWNER_MAY_DIFFER:
            self._refuse(
                "owner-mismatch",
                f"{packet.command} from {packet.creator_id} claims to be owned by {packet.owner_id}",
                source,
                size=len(data),
                garbage=True,
            )
            return defer.succeed(None)
        if self.replays.seen(packet) and not self._may_answer_again(packet):
            # Nothing to do for it even if it verified: drop it before any fetch or RSA work.
            self.stats.refuse("replay", len(data))
            return defer.succeed(None)
        d = self._lookup_creator(packet.creator_id, source)
        d.addCallback(self._verify, packet)
        d.addCallbacks(
            self._accepted,
            self._verify_failed,
            callbackArgs=(packet, len(data), source),
            errbackArgs=(packet, len(data), source),
        )
        # Our own bugs past verification are logged here, never left in a Deferred nobody holds.
        d.addErrback(log_failure(self.log, "handling a {command} packet failed", command=packet.command))
        return d

    def _may_answer_again(self, packet: Packet) -> bool:
        """A seen packet is worth verifying only if verified it would be answered again."""
        if packet.command in (commands.ACK, commands.FAIL):
            return False
        return self.answers.get((packet.creator_id, packet.packet_id)) is not None and self.answer_budget.available(
            packet.creator_id
        )

    def _lookup_creator(self, idurl: str, source: Any) -> defer.Deferred[Any]:
        """The creator's identity for an incoming packet; a fetch when unknown, bounded per sender address.

        One address may have at most ``max_lookups_per_address`` different unknown creators
        being fetched at once (packets naming one that is already being fetched wait for it);
        beyond that the packet is dropped as ``busy`` before any request is made. The cache bounds
        the fetches per identity server and in total (:mod:`bitdust.userid.fetch_limits`).
        """
        known = self.cache.get(idurl)
        if known is not None:
            return defer.succeed(known)
        host = getattr(source, "host", None) or "?"
        pending = self._lookups.setdefault(host, set())
        if idurl not in pending and len(pending) >= self.max_lookups_per_address:
            if not pending:
                del self._lookups[host]
            return defer.fail(
                IdentityFetchError(
                    f"{host} already has {len(pending)} unknown creators being looked up", reason="busy", url=idurl
                )
            )
        pending.add(idurl)

        def done(result: Any) -> Any:
            pending.discard(idurl)
            if not pending and self._lookups.get(host) is pending:
                del self._lookups[host]
            return result

        return self.cache.fetch(idurl).addBoth(done)

    def _creator_identity(self, idurl: str) -> defer.Deferred[Any]:
        known = self.cache.get(idurl)
        if known is not None:
            return defer.succeed(known)
        return self.cache.fetch(idurl)

    def _verify(self, identity: Any, packet: Packet) -> defer.Deferred[Any]:
        now = self.clock.seconds()
        return self.run_blocking(
            packets.verify,
            packet,
            identity,
            now=now,
            skew=self.limits.max_skew,
            future_skew=self.limits.max_future_skew,
        ).addCallback(lambda _: identity)

    def _verify_failed(self, failure: Failure, packet: Packet, size: int, source: Any) -> None:
        if failure.check(PacketError):
            self._refuse(
                "bad-signature",
                f"{packet.command} from {packet.creator_id}: {failure.value.reason}",
                source,
                size=size,
                garbage=True,
            )
        elif failure.check(IdentityFetchError) and failure.value.reason == "busy":
            # Too many lookups at once (from this address, or to that server): not the sender's fault
            # for sure, so not counted against it; an honest sender retries.
            self._refuse(
                "busy",
                f"identity of {packet.creator_id} is not looked up now: {failure.getErrorMessage()}",
                source,
                size=size,
                garbage=False,
            )
        else:
            self._refuse(
                "unknown-creator",
                f"identity of {packet.creator_id} is not available: {failure.getErrorMessage()}",
                source,
                size=size,
                # A sender that names creators nobody can fetch makes us do HTTP requests for nothing.
                garbage=True,
            )

    def _accepted(self, identity: Any, packet: Packet, size: int, source: Any) -> defer.Deferred[None] | None:
        if self.stopped:
            return None
        peer = identity.idurl.url
        if self.replays.check_and_remember(packet):
            self.stats.refuse("replay", size)
            if packet.command not in (commands.ACK, commands.FAIL):
                # Probably our answer got lost and the sender retried: answer the same again, never act
                # twice. While the handler still runs there is nothing to repeat yet.
                answer = self.answers.get((packet.creator_id, packet.packet_id))
                if answer is not None:
                    self._answer_within_budget(packet, *answer, remember=False)
            return None
        self.stats.count("in", packet.command, peer, size)
        self.recent_in.append(_incoming_row(packet, peer, size, source, self.clock.seconds()))
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
            self._settle(packet, peer)
            return None
        self._remember_answer(packet.creator_id, packet.packet_id, None)
        handler = self.handlers.get(packet.command)
        if handler is None:
            self._answer_within_budget(packet, commands.FAIL, f"unknown command {packet.command}".encode())
            return None
        d = defer.maybeDeferred(handler, packet, source)
        d.addCallbacks(self._handled, self._handler_failed, callbackArgs=(packet,), errbackArgs=(packet,))
        return d

    def _answer_within_budget(self, packet: Packet, command: str, payload: bytes, *, remember: bool = True) -> None:
        """Send an answer no handler decided on, if the creator's and the node's budget allow it.

        Over the budget the answer is still remembered, so a retry once the budget has refilled gets it.
        """
        if self.answer_budget.allow(packet.creator_id):
            self.reply(packet, command, payload, remember=remember)
            return
        if remember:
            self._remember_answer(packet.creator_id, packet.packet_id, (command, payload))
        self.stats.drop("answer-limited")

    def _handled(self, result: Any, packet: Packet) -> None:
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

    def _remember_answer(self, creator_id: str, packet_id: str, answer: tuple[str, bytes] | None) -> None:
        key = (creator_id, packet_id)
        self.answers[key] = answer
        self.answers.move_to_end(key)
        while len(self.answers) > self.max_answers:
            self.answers.popitem(last=False)

    def _settle(self, answer: Packet, peer: str) -> None:
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

    # -- outgoing -----------------------------------------------------------------------------

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

    def reply(self, to: Packet, command: str, payload: bytes, *, remember: bool = True) -> None:
        """Answer ``to`` with Ack or Fail, best effort: nobody waits for an answer to an answer."""
        if remember:
            self._remember_answer(to.creator_id, to.packet_id, (command, payload))

        def failed(failure: Failure) -> None:
            self.log.info(
                "could not answer {command} {packet_id} to {peer}: {reason}",
                command=to.command,
                packet_id=to.packet_id,
                peer=to.creator_id,
                reason=failure.getErrorMessage(),
            )

        self.send(command, to.creator_id, payload, packet_id=to.packet_id, retries=0).addErrback(failed)

    def prepare(self, packet: Packet) -> defer.Deferred[tuple[Packet, bytes, Any]]:
        """Find the receiver's identity and sign and encode the packet; fires ``(packet, wire, identity)``."""
        key = self.signing_key()
        if key is None:
            return defer.fail(DeliveryFailed("this node has no master key", reason="identity"))

        def sign_and_encode() -> tuple[Packet, bytes]:
            signed = packets.sign(packet, key)
            return signed, packets.encode(signed, self.limits)

        identity_d = self._creator_identity(packet.remote_id)
        identity_d.addErrback(
            lambda f: Failure(
                DeliveryFailed(
                    f"identity of {packet.remote_id} is not available: {f.getErrorMessage()}", reason="identity"
                )
            )
        )
        signed_d = self.run_blocking(sign_and_encode)
        both = defer.gatherResults([signed_d, identity_d], consumeErrors=True)
        both.addErrback(lambda f: f.value.subFailure)
        return both.addCallback(lambda results: (results[0][0], results[0][1], results[1]))

    def refresh_identity(self, idurl: str, *, reason: str = "") -> defer.Deferred[Any]:
        """Re-fetch the receiver's identity (paced by the cache); fires with the identity held after."""
        return self.cache.refresh(idurl, reason=reason)

    def route(self, identity: Any) -> tuple[Transport, str] | None:
        """The first contact of the peer's identity that one of our transports can reach."""
        for contact in identity.contacts:
            proto = contact.split("://", 1)[0]
            transport = self.transports.get(proto)
            if transport is not None:
                return transport, contact
        return None

    def transmit(
        self, packet: Packet, wire: bytes, identity: Any, transfers: list[Transfer] | None = None
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
        if out.state == "FAILED" and out.is_ack_wanted():
            self._notify("outbox-failed", peer, out.error)
        elif out.state == "DONE":
            self._notify("outbox-done", peer, out)

    def stop(self) -> None:
        """Cancel everything in flight; the engine is going down."""
        self.stopped = True
        for out in list(self.outgoing.values()):
            out.cancel()
        self.outgoing.clear()

    def packets_json(self) -> list[dict[str, Any]]:
        """``packets_list`` rows: outgoing packets in flight, the recent finished ones, then recent incoming.

        Rows carry the original's fields (``direction``, ``command``, ``packet_id``, ``label``,
        ``target``, ...) beside ours (``state``, ``attempts``, ``error``, ...); ``in_flight`` tells
        the packets still waiting for an answer from the finished ones.
        """
        flying = [_outgoing_row(out.to_json(), in_flight=True) for out in self.outgoing.values()]
        finished = [_outgoing_row(info, in_flight=False) for info in self.recent]
        return flying + finished + list(self.recent_in)


def _outgoing_row(info: dict[str, Any], *, in_flight: bool) -> dict[str, Any]:
    """An outgoing packet's ``to_json`` with the original's field names added."""
    target = info["remote_id"]
    state = info["state"]
    return {
        "direction": "outgoing",
        "command": info["command"],
        "packet_id": info["packet_id"],
        "label": f"out:{info['command']}:{info['packet_id']}",
        "target": target,
        "description": f"{info['command']}({info['packet_id']}) to {target}: {state}",
        "response_timeout": info["timeout"],
        "in_flight": in_flight,
        **info,
    }


def _incoming_row(packet: Packet, peer: str, size: int, source: Any, now: float) -> dict[str, Any]:
    """A ``packets_list`` row for a packet accepted from ``peer``; it arrived whole, so it is complete."""
    owner = getattr(source, "owner", None)
    host = getattr(source, "host", None)
    port = getattr(source, "port", None)
    return {
        "direction": "incoming",
        "command": packet.command,
        "packet_id": packet.packet_id,
        "transfer_id": None,
        "label": f"in:{packet.command}:{packet.packet_id}",
        "target": peer,
        "timeout": None,
        "proto": getattr(owner, "proto", None),
        "host": f"{host}:{port}" if host and port else host,
        "size": size,
        "bytes_received": size,
        "in_flight": False,
        "creator_id": packet.creator_id,
        "owner_id": packet.owner_id,
        "received": now,
    }
