"""network_connector: the node's online/offline state (see automats/network_connector.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.p2p.network_connector_machine import NetworkConnectorMachine


class NetworkConnector(NetworkConnectorMachine):
    """``check()`` fires (or returns) when the node is reachable as its identity says, fails (or raises) otherwise."""

    def __init__(
        self,
        *,
        check: Callable[[], object],
        report: Callable[[str, str], object] = lambda state, reason: None,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance_id="network_connector", **kwargs)
        self.check = check
        self.report = report
        self.reconnect_pending = False
        self.checks = 0
        self.last_check: float | None = None
        self.problem: str | None = None
        self._waiters: list[defer.Deferred[bool]] = []
        self._reported: tuple[str, str] | None = None

    def is_reconnect_pending(self, *, reason: str | None = None) -> bool:
        return self.reconnect_pending

    def do_remember_reconnect(self) -> None:
        self.reconnect_pending = True

    def do_check(self, *, reason: str | None = None) -> None:
        """Check again; ``reason`` is why the check that just ended failed, if it did."""
        self.reconnect_pending = False
        self.checks += 1
        self.last_check = self.clock.seconds()
        d = defer.maybeDeferred(self.check)

        def failed(failure: Failure) -> None:
            if not self.destroyed:
                self.check_failed(reason=failure.getErrorMessage())

        d.addCallbacks(lambda _: None if self.destroyed else self.check_ok(), failed)

    def do_report_connected(self) -> None:
        self.problem = None
        self._report_once("CONNECTED", "")
        self._settle(True)

    def do_report_disconnected(self, *, reason: str) -> None:
        self.problem = reason or "check failed"
        self._report_once("DISCONNECTED", self.problem)
        self._settle(False)

    def _report_once(self, state: str, reason: str) -> None:
        """Tell of a change, not of every periodic check that found the same."""
        if (state, reason) != self._reported:
            self._reported = (state, reason)
            self.report(state, reason)

    def _settle(self, connected: bool) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.called:
                waiter.callback(connected)

    def wait_settled(self, timeout: float) -> defer.Deferred[bool]:
        """Fires True once CONNECTED, False once DISCONNECTED or after ``timeout`` while still connecting."""
        if self.state in ("CONNECTED", "DISCONNECTED"):
            return defer.succeed(self.state == "CONNECTED")
        d: defer.Deferred[bool] = defer.Deferred()
        self._waiters.append(d)
        call = self.clock.callLater(timeout, lambda: None if d.called else d.callback(False))

        def settled(result: bool | Failure) -> bool | Failure:
            if call.active():
                call.cancel()
            return result

        return d.addBoth(settled)

    def destroy(self) -> None:
        self._settle(False)
        super().destroy()

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "checks": self.checks, "last_check": self.last_check, "problem": self.problem}
