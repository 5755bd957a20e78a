"""One contact_status machine per peer we have dealt with, fed by the gateway and the transports."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from bitdust.automats.registry import AutomatRegistry
from bitdust.automats.runtime import Automat
from bitdust.p2p.contact_status import ContactStatus
from bitdust.p2p.packet import Packet


class ContactStatuses:
    """``pinger(idurl, timeout)`` checks one peer; ``report(idurl, old, new)`` hears every change."""

    def __init__(
        self,
        *,
        clock: IReactorTime,
        pinger: Callable[[str, float], defer.Deferred[Packet | None]],
        report: Callable[[str, str, str], object] = lambda idurl, old, new: None,
        automats: AutomatRegistry | None = None,
        log: Logger | None = None,
        ping_timeout: float = 10.0,
        max_peers: int = 10_000,
    ) -> None:
        self.clock = clock
        self.pinger = pinger
        self.report = report
        self.automats = automats
        self.log = log
        self.ping_timeout = ping_timeout
        self.max_peers = max_peers
        self._peers: dict[str, ContactStatus] = {}
        #: who wants to hear each change of one peer's state (the customer's suppliers, ...)
        self._watchers: dict[str, builtins.list[Callable[[str, str, str], object]]] = {}

    def watch(self, idurl: str, callback: Callable[[str, str, str], object]) -> Callable[[], None]:
        """Call ``callback(idurl, old, new)`` on every state change of ``idurl`` from now on,
        including a machine made for it later; answers the call that stops watching. Several
        parts follow the same peer (a supplier that is also a correspondent), so each has its own."""
        self._watchers.setdefault(idurl, []).append(callback)

        def unwatch() -> None:
            callbacks = self._watchers.get(idurl, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._watchers.pop(idurl, None)

        return unwatch

    def _report(self, idurl: str, old: str, new: str) -> None:
        self.report(idurl, old, new)
        for callback in list(self._watchers.get(idurl, ())):
            try:
                callback(idurl, old, new)
            except Exception:
                if self.log is not None:
                    self.log.failure("a watcher of {idurl} failed", idurl=idurl)

    def find(self, idurl: str) -> ContactStatus | None:
        return self._peers.get(idurl)

    def get(self, idurl: str) -> ContactStatus:
        status = self._peers.get(idurl)
        if status is None:
            if len(self._peers) >= self.max_peers:
                self._forget_oldest_offline()
            status = self._peers[idurl] = self._new_status(idurl)
        return status

    def _new_status(self, idurl: str) -> ContactStatus:
        """A machine for one more peer; its pings take the timeout it holds when each one starts."""
        status: ContactStatus

        def ping(peer: str) -> defer.Deferred[Packet | None]:
            return self.pinger(peer, status.ping_timeout)

        status = ContactStatus(
            idurl,
            pinger=ping,
            report=self._report,
            ping_timeout=self.ping_timeout,
            clock=self.clock,
            registry=self.automats,
            log=self.log,
        )
        return status

    def _forget_oldest_offline(self) -> None:
        offline = [s for s in self._peers.values() if s.state == "OFFLINE"]
        victim = min(offline or self._peers.values(), key=lambda s: s.since)
        del self._peers[victim.idurl]
        victim.destroy()

    def state(self, idurl: str) -> str:
        status = self._peers.get(idurl)
        return status.state if status is not None else "OFFLINE"

    # -- inputs -------------------------------------------------------------------------------

    def on_gateway(self, event: str, idurl: str, detail: object) -> None:
        if event == "inbox-packet":
            status = self.get(idurl)
            status.seen()
            status.inbox_packet()
        elif event == "outbox-failed":
            self.get(idurl).outbox_failed(reason=str(detail) if detail else "")

    def on_peer_closed(self, idurl: str, how: str) -> None:
        status = self._peers.get(idurl)
        if status is None:
            return
        if how == "shutdown":
            status.went_offline(reason="the peer said it is shutting down")
        elif how == "lost":
            status.connection_lost()
        # "idle", "duplicate" and "local" closes say nothing about the peer being online.

    def check(self, idurl: str, timeout: float) -> defer.Deferred[str]:
        """Ping the peer now; fires with the state once the check is over (or ``timeout`` passed)."""
        status = self.get(idurl)
        status.ping_timeout = timeout
        status.check()
        if status.state != "PING":
            return defer.succeed(status.state)
        done: defer.Deferred[str] = defer.Deferred()

        def changed(machine: Automat, old: str, new: str, event: str) -> None:
            if new != "PING" and not done.called:
                done.callback(new)

        status.add_state_changed_callback(changed)
        guard = self.clock.callLater(timeout + 1.0, lambda: None if done.called else done.callback(status.state))

        def cleanup(result: str) -> str:
            status.remove_state_changed_callback(changed)
            if guard.active():
                guard.cancel()
            return result

        return done.addBoth(cleanup)

    def list(self) -> list[dict[str, Any]]:
        return [status.to_json() for status in self._peers.values()]

    def connected(self) -> builtins.list[str]:
        return [idurl for idurl, status in self._peers.items() if status.state == "CONNECTED"]

    def destroy(self) -> None:
        for status in self._peers.values():
            status.destroy()
        self._peers.clear()
        self._watchers.clear()
