"""Actions of the startup machine (source: automats/initializer.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.main.lifecycle.initializer_machine import InitializerMachine
from bitdust.main.logs import log_failure

if TYPE_CHECKING:
    from bitdust.main.engine import Engine


class Initializer(InitializerMachine):
    """Drives the engine from nothing to READY; each action delegates the work to the engine."""

    def __init__(self, engine: Engine, **automat_kwargs: Any) -> None:
        self.engine = engine
        self.failure: Failure | None = None
        super().__init__(**automat_kwargs)

    def _step(
        self,
        work: Callable[[], object],
        done: Callable[[], None],
        failed: Callable[[Failure], None] | None,
    ) -> None:
        d = defer.maybeDeferred(work)
        if failed is None:
            d.addCallback(lambda _: done())
        else:
            d.addCallbacks(lambda _: done(), lambda f: failed(f))
        d.addErrback(log_failure(self.engine.log, "initializer step failed"))

    def do_init_local(self) -> None:
        self._step(
            lambda: self.engine.run_blocking(self.engine.init_local),
            self.init_local_done,
            lambda failure: self.init_local_failed(failure=failure),
        )

    def do_start_services(self) -> None:
        self.engine.after_local()
        self._step(self.engine.services.start_enabled, self.services_started, None)

    def do_start_interfaces(self) -> None:
        self._step(
            self.engine.start_interfaces,
            self.interfaces_started,
            lambda failure: self.interfaces_failed(failure=failure),
        )

    def do_announce_ready(self) -> None:
        self.engine.announce_ready()

    def do_report_failure(self, *, failure: Failure) -> None:
        self.failure = failure
        self.engine.report_startup_failure(failure)

    def do_shutdown(self, *, restart: bool | None = None, failure: Failure | None = None) -> None:
        """Hand over to the shutdowner; after a failure (``failure`` given) it is a stop, never a restart."""
        self.engine.shutdowner.stop(restart=bool(restart))
