"""Services as a Twisted service tree: the manager holds them, they hold their ports and timers.

The service machine (automats/service.md) stays the authority on state; these tests check that
the Twisted side follows it: a service is ``running`` exactly while it is STARTING or ON, its
listening ports and timers are its children for one run, and a start that fails leaves nothing
listening.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.application.service import IService, IServiceCollection, MultiService
from twisted.internet import defer, error, task
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort, IStreamServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from bitdust.automats.registry import AutomatRegistry
from bitdust.main.events import EventBus
from bitdust.main.service_framework.service import BitDustService
from bitdust.main.service_framework.service_children import IntervalService, ListeningService, OpenedPortService
from bitdust.main.service_framework.service_manager import ServiceManager
from bitdust.main.settings.config import Config
from tests.services.helpers import settle


class RecordingLog:
    """A twisted.logger observer keeping every event."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)


@implementer(IListeningPort)
class RecordingPort:
    def __init__(self) -> None:
        self.listening = True

    def startListening(self) -> None:  # noqa: N802 - Twisted interface
        pass

    def stopListening(self) -> None:  # noqa: N802 - Twisted interface
        self.listening = False

    def getHost(self) -> IPv4Address:  # noqa: N802 - Twisted interface
        return IPv4Address("TCP", "127.0.0.1", 7771)


@implementer(IStreamServerEndpoint)
class RecordingEndpoint:
    """Listens at once on a RecordingPort, or refuses with ``refuse`` (an exception)."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.ports: list[RecordingPort] = []

    def listen(self, factory: object) -> defer.Deferred[RecordingPort]:
        if self.refuse is not None:
            return defer.fail(self.refuse)
        self.ports.append(RecordingPort())
        return defer.succeed(self.ports[-1])


class PortService(BitDustService):
    """Listens on a recording endpoint; optionally fails after listening."""

    name = "service_port"

    def __init__(self, endpoint: RecordingEndpoint, *, fail_after_listen: bool = False) -> None:
        super().__init__(None)
        self.endpoint = endpoint
        self.fail_after_listen = fail_after_listen
        self.port: IListeningPort | None = None
        self.calls: list[str] = []

    def start(self) -> defer.Deferred[None]:
        self.calls.append("start")

        def listening(port: IListeningPort) -> None:
            self.port = port
            if self.fail_after_listen:
                raise RuntimeError("the database did not open")

        return self.listen_on(self.endpoint, Factory.forProtocol(Protocol)).addCallback(listening)

    def stop(self) -> None:
        # Children stop first: by now the port no longer listens and is no child any more.
        listening = [port.listening for port in self.endpoint.ports]
        self.calls.append(f"stop: listening {listening}, children {len(list(self))}")


class TimerUser(BitDustService):
    name = "service_timer"

    def __init__(self, clock: task.Clock, interval: float) -> None:
        super().__init__(None)
        self.clock = clock
        self.interval = interval
        self.ticks: list[float] = []

    def start(self) -> None:
        self.run_every(self.interval, lambda: self.ticks.append(self.clock.seconds()), clock=self.clock)


@pytest.fixture
def world(tmp_path: Any) -> dict[str, Any]:
    clock = task.Clock()
    config = Config(tmp_path / "config")
    config.load()
    observer = RecordingLog()
    manager = ServiceManager(
        config=config,
        events=EventBus(clock),
        automats=AutomatRegistry(strict=True),
        clock=clock,
        log=Logger(namespace="test", observer=observer),
    )
    return {"manager": manager, "clock": clock, "config": config, "log": observer}


def test_services_are_children_of_the_manager_and_not_started_by_being_added(world: dict[str, Any]) -> None:
    manager: ServiceManager = world["manager"]
    manager.startService()  # a running parent would start a plain MultiService child at once
    settle(manager.start_enabled(), world["clock"])
    service = TimerUser(world["clock"], 10)
    manager.add(service)
    assert IServiceCollection.providedBy(manager) and IService.providedBy(service)
    assert manager.getServiceNamed("service_timer") is service and service.parent is manager
    assert list(manager) == [service]
    assert not service.running and manager.state("service_timer") == "OFF"


def test_the_manager_refuses_children_that_bypass_add(world: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="ServiceManager.add"):
        MultiService().setServiceParent(world["manager"])
    assert list(world["manager"]) == []


def test_running_follows_the_machine(world: dict[str, Any]) -> None:
    manager: ServiceManager = world["manager"]
    service = TimerUser(world["clock"], 10)
    manager.add(service)
    settle(manager.start("service_timer"), world["clock"])
    assert manager.state("service_timer") == "ON" and service.running
    settle(manager.stop("service_timer"), world["clock"])
    assert manager.state("service_timer") == "OFF" and not service.running


def test_a_port_is_a_child_for_one_run(world: dict[str, Any]) -> None:
    endpoint = RecordingEndpoint()
    service = PortService(endpoint)
    world["manager"].add(service)
    info = settle(world["manager"].start("service_port"), world["clock"])
    assert info["state"] == "ON"
    [child] = list(service)
    assert isinstance(child, ListeningService) and child.running and child.port is service.port
    assert [port.listening for port in endpoint.ports] == [True]
    settle(world["manager"].stop("service_port"), world["clock"])
    assert list(service) == [] and not child.running and child.port is None
    assert service.calls == ["start", "stop: listening [False], children 0"]
    # The next run listens anew.
    settle(world["manager"].start("service_port"), world["clock"])
    assert [port.listening for port in endpoint.ports] == [False, True] and len(list(service)) == 1


def test_a_port_that_cannot_listen_fails_the_start_with_the_reason(world: dict[str, Any]) -> None:
    endpoint = RecordingEndpoint(refuse=error.CannotListenError("127.0.0.1", 7771, OSError("address in use")))
    service = PortService(endpoint)
    world["manager"].add(service)
    failure = settle(world["manager"].start("service_port"), world["clock"])
    assert isinstance(failure, Failure)
    assert world["manager"].state("service_port") == "FAILED"
    assert "address in use" in world["manager"].info("service_port")["reason"]
    assert list(service) == [] and not service.running and service.calls == ["start"]


def test_a_start_that_fails_after_listening_closes_the_port(world: dict[str, Any]) -> None:
    endpoint = RecordingEndpoint()
    service = PortService(endpoint, fail_after_listen=True)
    world["manager"].add(service)
    settle(world["manager"].start("service_port"), world["clock"])
    assert world["manager"].state("service_port") == "FAILED"
    assert "the database did not open" in world["manager"].info("service_port")["reason"]
    assert list(service) == [] and not service.running
    assert [port.listening for port in endpoint.ports] == [False]
    assert service.calls == ["start"]  # stop() is for a service that started


def test_a_timer_waits_one_interval_runs_on_the_clock_and_ends_with_the_service(world: dict[str, Any]) -> None:
    clock: task.Clock = world["clock"]
    service = TimerUser(clock, 10)
    world["manager"].add(service)
    settle(world["manager"].start("service_timer"), clock)
    [child] = list(service)
    assert isinstance(child, IntervalService) and child.clock is clock
    clock.advance(9)
    assert service.ticks == []
    clock.advance(1)
    clock.advance(10)
    assert service.ticks == [10, 20]
    settle(world["manager"].stop("service_timer"), clock)
    clock.advance(100)
    assert service.ticks == [10, 20] and list(service) == []
    # A new run reads its interval again.
    service.interval = 5
    settle(world["manager"].start("service_timer"), clock)
    clock.advance(5)
    assert service.ticks == [10, 20, clock.seconds()]


def test_a_timer_whose_work_raises_is_logged_to_the_engine_log(world: dict[str, Any]) -> None:
    clock: task.Clock = world["clock"]

    class Broken(BitDustService):
        name = "service_broken"

        def start(self) -> None:
            self.run_every(1, lambda: 1 / 0, clock=clock)

    world["manager"].add(Broken(None))
    settle(world["manager"].start("service_broken"), clock)
    clock.advance(1)
    failures = [e for e in world["log"].events if "log_failure" in e]
    assert [e["log_failure"].type for e in failures] == [ZeroDivisionError]
    # The loop ended; stopping the service still works.
    assert settle(world["manager"].stop("service_broken"), clock)["state"] == "OFF"


def test_children_are_added_only_while_the_service_runs() -> None:
    service = TimerUser(task.Clock(), 1)
    with pytest.raises(RuntimeError, match="children are added"):
        service.run_every(1, lambda: None, clock=task.Clock())


def test_the_manager_as_an_iservice_starts_the_enabled_services_and_stops_them(world: dict[str, Any]) -> None:
    clock: task.Clock = world["clock"]
    manager: ServiceManager = world["manager"]
    service = TimerUser(clock, 10)
    manager.add(service)
    root = MultiService()
    manager.setServiceParent(root)
    root.startService()
    for _ in range(10):
        clock.advance(0)
    assert manager.running and manager.is_on("service_timer") and service.running
    stopped = settle(defer.maybeDeferred(root.stopService), clock)
    assert stopped is not None and not isinstance(stopped, Failure)
    assert not manager.running and manager.state("service_timer") == "OFF" and not service.running


def test_a_port_opened_by_a_call_is_a_child_for_one_run(world: dict[str, Any]) -> None:
    ports: list[RecordingPort] = []

    class Datagrams(BitDustService):
        name = "service_datagrams"
        refuse = False

        def start(self) -> None:
            def open_udp() -> RecordingPort:
                if self.refuse:
                    raise error.CannotListenError("127.0.0.1", 7000, OSError("address in use"))
                ports.append(RecordingPort())
                return ports[-1]

            assert self.open_port(open_udp) is ports[-1]

    service = Datagrams(None)
    world["manager"].add(service)
    settle(world["manager"].start("service_datagrams"), world["clock"])
    [child] = list(service)
    assert isinstance(child, OpenedPortService) and child.port is ports[0] and ports[0].listening
    settle(world["manager"].stop("service_datagrams"), world["clock"])
    assert not ports[0].listening and list(service) == [] and child.port is None
    service.refuse = True
    settle(world["manager"].start("service_datagrams"), world["clock"])
    assert world["manager"].state("service_datagrams") == "FAILED"
    assert "address in use" in world["manager"].info("service_datagrams")["reason"]
    assert list(service) == [] and not service.running and len(ports) == 1


def test_a_child_that_fails_to_stop_is_logged_and_the_service_still_stops(world: dict[str, Any]) -> None:
    class Stuck(RecordingPort):
        def stopListening(self) -> None:  # noqa: N802 - Twisted interface
            raise OSError("bad file descriptor")

    endpoint = RecordingEndpoint()
    endpoint.ports.append(Stuck())
    endpoint.listen = lambda factory: defer.succeed(endpoint.ports[0])  # type: ignore[method-assign]
    service = PortService(endpoint)
    world["manager"].add(service)
    settle(world["manager"].start("service_port"), world["clock"])
    info = settle(world["manager"].stop("service_port"), world["clock"])
    assert info["state"] == "OFF" and list(service) == [] and service.calls[-1].startswith("stop")
    failures = [e for e in world["log"].events if "log_failure" in e]
    assert [e["log_failure"].type for e in failures] == [OSError]
    assert "service_port" in failures[0]["name"]
