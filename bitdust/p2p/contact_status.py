"""contact_status: what we believe about one peer (see automats/contact_status.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.automats.runtime import Automat
from bitdust.p2p.contact_status_machine import ContactStatusMachine
from bitdust.p2p.packet import Packet


class ContactStatus(ContactStatusMachine):
    """``pinger(idurl)`` sends one check and fires on the peer's answer; ``report(idurl, old, new)`` is
    told every change (events for API clients). ``ping_timeout`` is how long the next check may take."""

    def __init__(
        self,
        idurl: str,
        *,
        pinger: Callable[[str], defer.Deferred[Packet | None]],
        report: Callable[[str, str, str], object] = lambda idurl, old, new: None,
        ping_timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance_id=f"contact_status[{idurl}]", **kwargs)
        self.idurl = idurl
        self.pinger = pinger
        self.report = report
        self.ping_timeout = ping_timeout
        self.since = self.clock.seconds()
        self.last_seen: float | None = None
        self.problem: str | None = None
        self._ping: defer.Deferred[Packet | None] | None = None
        self.add_state_changed_callback(self._changed_state)

    def _changed_state(self, _automat: Automat, old: str, new: str, _event: str) -> None:
        self.since = self.clock.seconds()
        self.report(self.idurl, old, new)

    def do_report_connected(self) -> None:
        self.last_seen = self.clock.seconds()
        self.problem = None

    def do_report_offline(self, *, reason: str) -> None:
        self.problem = reason or self.problem

    def do_ping(self) -> None:
        if self._ping is not None:
            return
        d = self._ping = self.pinger(self.idurl)

        def ok(_: Any) -> None:
            self._ping = None
            self.ping_ok()

        def failed(failure: Failure) -> None:
            self._ping = None
            self.ping_failed(reason=failure.getErrorMessage())

        d.addCallbacks(ok, failed)

    def seen(self) -> None:
        self.last_seen = self.clock.seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "idurl": self.idurl,
            "contact_state": self.state,
            "since": self.since,
            "last_seen": self.last_seen,
            "problem": self.problem,
        }
