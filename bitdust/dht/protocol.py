"""The UDP side of a DHT node: datagrams in and out, RPC ids, timeouts and per-source rate limits.

Every datagram is untrusted. :meth:`DhtProtocol.datagramReceived` never lets an exception out: a
datagram that is too big, malformed, over its sender's rate, or an answer to an RPC id we did
not send (or sent to another address) is dropped and counted under a reason. Requests go to the
node (``handle_request``) and its answer or error goes back with the same RPC id; one socket
serves every layer, the layer id travels in each message.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from typing import Any, Protocol

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.dht import messages
from bitdust.dht.errors import MessageError, RpcError, RpcTimeout
from bitdust.dht.messages import Message
from bitdust.main.logs import log_failure

Address = tuple[str, int]


class RequestHandler(Protocol):
    node_id: bytes

    def own_flags(self, layer: int) -> tuple[bool, str]: ...

    def handle_request(self, message: Message, address: Address) -> dict[str, Any] | defer.Deferred[dict[str, Any]]: ...

    def message_seen(self, message: Message, address: Address) -> None: ...


class _RateLimiter:
    """A token bucket per source address, in a bounded LRU table."""

    def __init__(self, clock: IReactorTime, rate: float, burst: float, max_sources: int = 4096) -> None:
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._max = max_sources
        self._sources: OrderedDict[Address, tuple[float, float]] = OrderedDict()

    def allow(self, address: Address) -> bool:
        if self.rate <= 0:
            return True
        now = self._clock.seconds()
        tokens, last = self._sources.pop(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._sources[address] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._sources) > self._max:
            self._sources.popitem(last=False)
        return allowed


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
        self._limiter = _RateLimiter(clock, rate_limit, rate_burst)
        self._pending: dict[bytes, tuple[Address, int, defer.Deferred[Message], Any]] = {}
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

    # -- receiving -----------------------------------------------------------------------------

    def datagramReceived(self, data: bytes, addr: Any) -> None:  # noqa: N802 - Twisted hook
        try:
            self._received(data, (str(addr[0]), int(addr[1])))
        except Exception:
            self.dropped["handler-error"] = self.dropped.get("handler-error", 0) + 1
            self.log.failure("DHT datagram from {address} failed", address=addr)

    def _received(self, data: bytes, address: Address) -> None:
        self.bytes_received += len(data)
        if not self._limiter.allow(address):
            self._drop("rate-limited", address)
            return
        try:
            message = messages.decode(data)
        except MessageError as exc:
            self._drop("malformed", address, exc.message)
            return
        if message.sender == self.handler.node_id:
            self._drop("own-id", address)
            return
        if message.kind == "q":
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
        counters = self.counters(layer)
        counters.packets_received += 1
        counters.rpc_responses += 1
        self.handler.message_seen(message, address)
        if message.kind == "e":
            deferred.errback(RpcError(message.error, message.detail))
        else:
            deferred.callback(message)

    def _answer(self, request: Message, address: Address) -> None:
        d = defer.maybeDeferred(self.handler.handle_request, request, address)

        def respond(kind: str, **fields: Any) -> None:
            attached, idurl = self.handler.own_flags(request.layer)
            message = Message(
                kind=kind,
                layer=request.layer,
                rpc_id=request.rpc_id,
                sender=self.handler.node_id,
                attached=attached,
                idurl=idurl,
                **fields,
            )
            self._send(message, address)

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

    # -- sending -------------------------------------------------------------------------------

    def _send(self, message: Message, address: Address) -> bool:
        try:
            data = messages.encode(message)
        except MessageError as exc:
            self.log.warn("DHT message to {address} not sent: {reason}", address=address, reason=exc.message)
            return False
        if self.transport is None:
            return False
        try:
            self.transport.write(data, address)
        except OSError as exc:
            self.log.debug("DHT send to {address} failed: {error}", address=address, error=exc)
            return False
        self.bytes_sent += len(data)
        self.counters(message.layer).packets_sent += 1
        return True

    def request(self, address: Address, layer: int, method: str, args: dict[str, Any]) -> defer.Deferred[Message]:
        """Send one RPC; fires with the answer, fails with RpcError (the remote said no) or RpcTimeout."""
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
