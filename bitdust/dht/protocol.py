"""The UDP side of a DHT node: datagrams in and out, RPC ids, timeouts and per-sender limits.

Every datagram is untrusted. :meth:`DhtProtocol.datagramReceived` never lets an exception out: a
datagram that is too big, malformed, over its sender's rate (a sender is a host, see
:func:`~bitdust.dht.limits.sender_of`), or an answer to an RPC id we did not send (or sent to
another address) is dropped and counted under a reason. Requests go to the node
(``handle_request``) and its answer or error goes back with the same RPC id; one socket serves
every layer, the layer id travels in each message.

Source addresses are claims until a round trip proves them (:mod:`bitdust.dht.addresses`):
every answer carries a token for its destination and every request the token its destination
gave us. An address that has not proved itself is never sent more than a few times what it sent,
and may not STORE; it is answered ``verify`` (with a token), which :meth:`DhtProtocol.request`
takes care of by asking once more with the token.
"""

from __future__ import annotations

import random
from typing import Protocol

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IListeningPort, IReactorTime, IReactorUDP
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.dht import messages
from bitdust.dht.addresses import AddressGuard
from bitdust.dht.errors import MessageError, RpcError, RpcTimeout
from bitdust.dht.limits import TokenBuckets, sender_of
from bitdust.dht.messages import Answer, Message, RequestArgs
from bitdust.main.logs import log_failure

Address = tuple[str, int]

#: requests only an address that proved itself may make (they make us keep or send data)
VERIFIED_METHODS = ("store",)


class RequestHandler(Protocol):
    node_id: bytes

    def own_flags(self, layer: int) -> tuple[bool, str]: ...

    def handle_request(self, message: Message, address: Address) -> Answer | defer.Deferred[Answer]: ...

    def message_seen(self, message: Message, address: Address) -> None: ...


class LayerCounters:
    __slots__ = ("packets_received", "packets_sent", "rpc_calls", "rpc_responses")

    def __init__(self) -> None:
        self.packets_received = 0
        self.packets_sent = 0
        self.rpc_calls = 0
        self.rpc_responses = 0

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class DhtProtocol(DatagramProtocol):
    def __init__(
        self,
        handler: RequestHandler,
        *,
        clock: IReactorTime,
        rng: random.Random,
        rpc_timeout: float = 5.0,
        rate_limit: float = 200.0,
        rate_burst: float = 400.0,
        log: Logger | None = None,
    ) -> None:
        self.handler = handler
        self.clock = clock
        self.rng = rng
        self.rpc_timeout = rpc_timeout
        self.log = log or Logger()
        self._limiter = TokenBuckets(clock, rate_limit, rate_burst)
        self.guard = AddressGuard(clock, rng.randbytes(32))
        self._pending: dict[bytes, tuple[Address, int, defer.Deferred[Message], IDelayedCall]] = {}
        self.bytes_received = 0
        self.bytes_sent = 0
        self.dropped: dict[str, int] = {}
        self.layers: dict[int, LayerCounters] = {}

    # -- counters ------------------------------------------------------------------------------

    def counters(self, layer: int) -> LayerCounters:
        counters = self.layers.get(layer)
        if counters is None:
            counters = self.layers[layer] = LayerCounters()
        return counters

    def _drop(self, reason: str, address: Address, detail: str = "") -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        self.log.debug(
            "dropped a datagram from {address}: {reason} {detail}", address=address, reason=reason, detail=detail
        )

    def listen(self, reactor: IReactorUDP, port: int, interface: str = "") -> IListeningPort:
        """Bind the UDP port; it reads datagrams up to one byte over the limit (so those are seen)."""
        return reactor.listenUDP(port, self, interface=interface, maxPacketSize=messages.MAX_DATAGRAM + 1)

    # -- receiving -----------------------------------------------------------------------------

    def datagramReceived(self, data: bytes, addr: Address) -> None:  # noqa: N802 - Twisted hook
        try:
            self._received(data, (str(addr[0]), int(addr[1])))
        except Exception:
            self.dropped["handler-error"] = self.dropped.get("handler-error", 0) + 1
            self.log.failure("DHT datagram from {address} failed", address=addr)

    def _received(self, data: bytes, address: Address) -> None:
        self.bytes_received += len(data)
        if not self._limiter.take(sender_of(address)):
            self._drop("rate-limited", address)
            return
        if len(data) > messages.MAX_DATAGRAM:
            self._drop("too-big", address)
            return
        try:
            message = messages.decode(data)
        except MessageError as exc:
            self._drop("malformed", address, exc.message)
            return
        if message.sender == self.handler.node_id:
            self._drop("own-id", address)
            return
        self.guard.received(address, len(data))
        if message.kind == "q":
            if message.token:
                self.guard.check_token(address, message.token)
            self.counters(message.layer).packets_received += 1
            self.handler.message_seen(message, address)
            self._answer(message, address)
            return
        pending = self._pending.get(message.rpc_id)
        if pending is None:
            self._drop("unknown-rpc", address)
            return
        expected_address, layer, deferred, timeout = pending
        if expected_address != address or layer != message.layer:
            self._drop("rpc-mismatch", address)
            return
        del self._pending[message.rpc_id]
        if timeout.active():
            timeout.cancel()
        self.guard.mark_verified(address)  # it answered what we sent there: the address is real
        if message.token:
            self.guard.remember_token(address, message.token)
        counters = self.counters(layer)
        counters.packets_received += 1
        counters.rpc_responses += 1
        self.handler.message_seen(message, address)
        if message.kind == "e":
            deferred.errback(RpcError(message.error, message.detail))
        else:
            deferred.callback(message)

    def _answer(self, request: Message, address: Address) -> None:
        def respond(kind: str, *, result: Answer | None = None, error: str = "", detail: str = "") -> None:
            attached, idurl = self.handler.own_flags(request.layer)
            message = Message(
                kind=kind,
                layer=request.layer,
                rpc_id=request.rpc_id,
                sender=self.handler.node_id,
                attached=attached,
                idurl=idurl,
                token=self.guard.token_for(address),
                result=result or {},
                error=error,
                detail=detail,
            )
            self._send(message, address, limited=True)

        if request.method in VERIFIED_METHODS and not self.guard.is_verified(address):
            respond("e", error="verify", detail=f"{request.method} needs the token of this answer")
            return
        d = defer.maybeDeferred(self.handler.handle_request, request, address)

        def refuse(failure: Failure) -> None:
            if failure.check(RpcError):
                code, detail = failure.value.code, failure.value.detail
            elif failure.check(MessageError):
                code, detail = "bad-request", failure.value.message
            else:
                self.log.failure("DHT request {method} failed", failure=failure, method=request.method)
                code, detail = "internal", "the request failed on this node"
            respond("e", error=code, detail=detail)

        d.addCallbacks(lambda result: respond("r", result=result), refuse)
        d.addErrback(log_failure(self.log, "DHT answer to {address} failed", address=address))

    def _answer_verify(self, answer: Message, address: Address) -> None:
        """``answer`` was too big for an unverified address: a token instead, if even that fits."""
        message = attrs.evolve(
            answer, kind="e", result={}, error="verify", detail="the answer needs the token of this one"
        )
        self._send(message, address, limited=True)

    # -- sending -------------------------------------------------------------------------------

    def _send(self, message: Message, address: Address, limited: bool = False) -> bool:
        """Send ``message``; ``limited``: only within what an unverified ``address`` may be sent."""
        try:
            data = messages.encode(message)
        except MessageError as exc:
            self.log.warn("DHT message to {address} not sent: {reason}", address=address, reason=exc.message)
            return False
        if self.transport is None:
            return False
        if limited and not self.guard.may_send(address, len(data)):
            self._drop("amplification", address, f"{len(data)} bytes to an unverified address")
            if message.error != "verify":
                self._answer_verify(message, address)
            return False
        try:
            self.transport.write(data, address)
        except OSError as exc:
            self.log.debug("DHT send to {address} failed: {error}", address=address, error=exc)
            return False
        self.bytes_sent += len(data)
        self.counters(message.layer).packets_sent += 1
        return True

    def request(self, address: Address, layer: int, method: str, args: RequestArgs) -> defer.Deferred[Message]:
        """Send one RPC; fires with the answer, fails with RpcError (the remote said no) or RpcTimeout.

        An answer ``verify`` brought the token the remote wants: the request is sent once more with it.
        """
        d = self._request_once(address, layer, method, args)

        def again(failure: Failure) -> defer.Deferred[Message]:
            failure.trap(RpcError)
            if failure.value.code != "verify" or not self.guard.token_to_send(address):
                return defer.fail(failure)
            return self._request_once(address, layer, method, args)

        return d.addErrback(again)

    def _request_once(self, address: Address, layer: int, method: str, args: RequestArgs) -> defer.Deferred[Message]:
        rpc_id = self.rng.getrandbits(64).to_bytes(8, "big")
        while rpc_id in self._pending:
            rpc_id = self.rng.getrandbits(64).to_bytes(8, "big")
        attached, idurl = self.handler.own_flags(layer)
        message = Message(
            kind="q",
            layer=layer,
            rpc_id=rpc_id,
            sender=self.handler.node_id,
            attached=attached,
            idurl=idurl,
            method=method,
            args=args,
            token=self.guard.token_to_send(address),
        )
        deferred: defer.Deferred[Message] = defer.Deferred()
        self.counters(layer).rpc_calls += 1
        if not self._send(message, address):
            deferred.errback(RpcTimeout(f"cannot send {method} to {address[0]}:{address[1]}"))
            return deferred
        timeout = self.clock.callLater(self.rpc_timeout, self._timed_out, rpc_id, method)
        self._pending[rpc_id] = (address, layer, deferred, timeout)
        return deferred

    def _timed_out(self, rpc_id: bytes, method: str) -> None:
        pending = self._pending.pop(rpc_id, None)
        if pending is not None:
            address = pending[0]
            pending[2].errback(RpcTimeout(f"no answer to {method} from {address[0]}:{address[1]}"))

    def cancel_all(self) -> None:
        """Fail every RPC in flight (the node is stopping)."""
        pending, self._pending = self._pending, {}
        for address, _layer, deferred, timeout in pending.values():
            if timeout.active():
                timeout.cancel()
            deferred.errback(RpcTimeout(f"stopped waiting for {address[0]}:{address[1]}"))
