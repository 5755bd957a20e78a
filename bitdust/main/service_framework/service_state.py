"""Actions and conditions of the per-service state machine (source: automats/service.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.main.logs import log_failure
from bitdust.main.service_framework.service_state_machine import ServiceStateMachine

if TYPE_CHECKING:
    from bitdust.main.service_framework.service import BitDustService

SETTLED_STATES = frozenset({"ON", "OFF", "FAILED", "NOT_INSTALLED", "DEPENDS_OFF"})


class ServiceState(ServiceStateMachine):
    """Where one service is in its life cycle; ``reason`` says why it is not ON."""

    def __init__(self, service: BitDustService, *, manager: Any, events: Any, **automat_kwargs: Any) -> None:
        self.service = service
        self.manager = manager
        self.events = events
        self.reason: str | None = None
        self._settle_waiters: list[defer.Deferred[str]] = []
        super().__init__(instance_id=service.name, **automat_kwargs)
        self.add_state_changed_callback(self._on_state_changed)

    # -- waiting for the machine to settle ----------------------------------------------------

    def wait_settled(self) -> defer.Deferred[str]:
        """Fires with the state once the machine rests in a state other than STARTING/STOPPING.

        The check runs on the next reactor turn, never inside a transition: an event sent from
        a state-change callback is queued by the runtime, so the state seen from inside one
        may be about to change.
        """
        waiter: defer.Deferred[str] = defer.Deferred()
        self._settle_waiters.append(waiter)
        self.clock.callLater(0, self._fire_if_settled)
        return waiter

    def _on_state_changed(self, automat: Any, old: str, new: str, event: str) -> None:
        if new in SETTLED_STATES and self._settle_waiters:
            self.clock.callLater(0, self._fire_if_settled)

    def _fire_if_settled(self) -> None:
        if self.state not in SETTLED_STATES:
            return
        waiters, self._settle_waiters = self._settle_waiters, []
        for waiter in waiters:
            waiter.callback(self.state)

    # -- conditions ---------------------------------------------------------------------------

    def is_installed(self) -> bool:
        return bool(self.service.installed())

    def is_depends_on(self) -> bool:
        return not self.manager.dependencies_not_on(self.service.name)

    # -- actions ------------------------------------------------------------------------------

    def do_start(self) -> None:
        self.reason = None
        d = self.service.start_running()
        d.addCallbacks(lambda _: self.started(), lambda f: self.start_failed(failure=f))
        d.addErrback(log_failure(self.log, "service {name} start bookkeeping failed", name=self.service.name))

    def do_stop(self) -> None:
        d = self.service.stop_running()
        d.addCallbacks(lambda _: self.stopped(), lambda f: self.stop_failed(failure=f))
        d.addErrback(log_failure(self.log, "service {name} stop bookkeeping failed", name=self.service.name))

    def do_report_started(self) -> None:
        self.reason = None
        self.log.info("service {name} started", name=self.service.name)
        self.events.send("service-started", {"name": self.service.name})

    def do_report_stopped(self) -> None:
        self.reason = None
        self.log.info("service {name} stopped", name=self.service.name)
        self.events.send("service-stopped", {"name": self.service.name})

    def do_report_not_installed(self) -> None:
        self.reason = f"{self.service.name} is not installed on this node"
        self.log.info("service {name} is not installed", name=self.service.name)

    def do_report_installed(self) -> None:
        self.reason = None
        self.log.info("service {name} can run now", name=self.service.name)

    def do_report_depends_off(self) -> None:
        missing = self.manager.dependencies_not_on(self.service.name)
        self.reason = f"{self.service.name} depends on {', '.join(missing)}, which is not running"
        self.log.info("{reason}", reason=self.reason)

    def do_report_start_failed(self, *, failure: Failure) -> None:
        self.reason = f"{self.service.name} failed to start: {failure.getErrorMessage()}"
        self.log.failure("service {name} failed to start", failure=failure, name=self.service.name)

    def do_report_stop_failed(self, *, failure: Failure) -> None:
        detail = failure.getErrorMessage()
        self.reason = f"{self.service.name} failed to stop cleanly: {detail}"
        self.log.failure("service {name} failed to stop", failure=failure, name=self.service.name)
        self.events.send("service-stopped", {"name": self.service.name, "error": detail})
