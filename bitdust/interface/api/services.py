"""API methods of the service framework."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.interface.api.constraints import between
from bitdust.interface.api.spec import api_method
from bitdust.main.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from bitdust.main.engine import Engine
    from bitdust.main.service_framework.service_manager import ServiceInfo


@api_method("GET", "service/list/v1", params={"with_configs": "also list each service's config options"})
def services_list(engine: Engine, with_configs: bool = False) -> list[ServiceInfo]:
    """Every service of the engine with its state, in dependency order."""
    return engine.services.list(with_configs=with_configs)


@api_method("GET", "service/info/{service_name}/v1", params={"service_name": "e.g. service_supplier"}, answers=(404,))
def service_info(engine: Engine, service_name: str) -> ServiceInfo:
    """Details of one service."""
    return engine.services.info(service_name, with_configs=True)


@api_method(
    "POST", "service/start/{service_name}/v1", params={"service_name": "e.g. service_supplier"}, answers=(404, 409)
)
def service_start(engine: Engine, service_name: str) -> defer.Deferred[ServiceInfo]:
    """Start a service now and mark it enabled.

    Its dependencies that are enabled but stopped are started first; a dependency that is
    disabled or fails to start makes the call fail with an error naming it.
    """
    return engine.services.start(service_name)


@api_method(
    "POST", "service/stop/{service_name}/v1", params={"service_name": "e.g. service_supplier"}, answers=(404, 409)
)
def service_stop(engine: Engine, service_name: str) -> defer.Deferred[ServiceInfo]:
    """Stop a service now and mark it disabled; services depending on it stop too but stay enabled."""
    return engine.services.stop(service_name)


@api_method(
    "POST",
    "service/restart/{service_name}/v1",
    params={
        "service_name": "e.g. service_customer",
        "wait_timeout": "seconds to wait for the restart to finish",
    },
    constraints={"wait_timeout": between(0, 3600, exclusive_minimum=True)},
    answers=(404, 409, 503),
)
def service_restart(engine: Engine, service_name: str, wait_timeout: float = 10) -> defer.Deferred[ServiceInfo]:
    """Stop an enabled service and start it again, with the services depending on it."""
    if wait_timeout <= 0 or wait_timeout > 3600:
        raise InvalidInput("parameter wait_timeout: expected seconds between 0 and 3600")
    engine.services.get(service_name)
    d = engine.services.restart(service_name)

    def timed_out() -> None:
        d.cancel()

    call = engine.reactor.callLater(wait_timeout, timed_out)

    def done(result: ServiceInfo) -> ServiceInfo:
        if call.active():
            call.cancel()
        return result

    def cancelled(failure: Failure) -> Failure:
        failure.trap(defer.CancelledError)
        if call.called:
            raise Unavailable(
                f"{service_name} did not restart within {wait_timeout} s; it is now {engine.services.state(service_name)}"
            )
        return failure

    d.addBoth(done)
    d.addErrback(cancelled)
    return d
