"""Actions of the shutdown machine (source: automats/shutdowner.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.main.lifecycle.shutdowner_machine import ShutdownerMachine
from bitdust.main.logs import log_failure

if TYPE_CHECKING:
    from bitdust.main.engine import Engine


class Shutdowner(ShutdownerMachine):
    """Stops services, then the API, then releases the home folder and the reactor."""

    def __init__(self, engine: Engine, **automat_kwargs: Any) -> None:
        self.engine = engine
        self.restart = False
        super().__init__(**automat_kwargs)

    def do_remember_mode(self, *, restart: bool) -> None:
        self.restart = restart

    def do_stop_services(self, *, restart: bool) -> None:
        d = defer.maybeDeferred(self.engine.services.stop_all)
        d.addErrback(log_failure(self.engine.log, "stopping services failed"))
        d.addBoth(lambda _: self.services_stopped())

    def do_stop_interfaces(self) -> None:
        d = defer.maybeDeferred(self.engine.stop_interfaces)
        d.addErrback(log_failure(self.engine.log, "stopping the API servers failed"))
        d.addBoth(lambda _: self.interfaces_stopped())

    def do_report_timeout(self) -> None:
        self.engine.log.warn("shutdown step timed out in state {state}; going on", state=self.state)

    def do_release_home(self) -> None:
        self.engine.release_local()

    def do_stop_reactor(self) -> None:
        self.engine.finish(restart=self.restart)
