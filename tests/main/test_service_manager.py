"""The service framework, with services defined here (real ones come with later issues)."""

from __future__ import annotations

import pytest
from twisted.internet import defer, task

from bitdust.automats.registry import AutomatRegistry
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput, NotFound
from bitdust.main.events import EventBus
from bitdust.main.service_framework.service import BitDustService
from bitdust.main.service_framework.service_graph import DependencyCycle
from bitdust.main.service_framework.service_manager import ServiceError, ServiceManager
from bitdust.main.settings.config import Config


class FakeService(BitDustService):
    """Records start/stop; ``pending`` makes start return a Deferred the test fires."""

    def __init__(self, engine, name, depends=(), enabled=True, log=None):
        super().__init__(engine)
        self.name = name
        self.depends_on = tuple(depends)
        self.enabled_by_default = enabled
        self.log = log if log is not None else []
        self.fail_start = False
        self.is_installed = True
        self.pending: defer.Deferred | None = None

    def installed(self):
        return self.is_installed

    def start(self):
        self.log.append(("start", self.name))
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot bind its port")
        if self.pending is not None:
            return self.pending
        return None

    def stop(self):
        self.log.append(("stop", self.name))
        return defer.succeed(None)


@pytest.fixture
def world(tmp_path):
    clock = task.Clock()
    config = Config(tmp_path / "config")
    config.load()
    events = EventBus(clock)
    registry = AutomatRegistry(strict=True)
    manager = ServiceManager(config=config, events=events, automats=registry, clock=clock)
    calls: list = []
    seen_events: list = []
    events.subscribe(seen_events.append)

    def add(name, depends=(), enabled=True):
        service = FakeService(None, name, depends, enabled, calls)
        manager.add(service)
        return service

    return {
        "manager": manager,
        "config": config,
        "calls": calls,
        "add": add,
        "events": seen_events,
        "registry": registry,
        "clock": clock,
    }


def result_of(d: defer.Deferred, clock: task.Clock):
    results: list = []
    d.addBoth(results.append)
    for _ in range(1000):
        if results:
            break
        clock.advance(0)
    assert results, "deferred did not fire"
    return results[0]


def build_chain(world):
    add = world["add"]
    add("service_network")
    add("service_gateway", ["service_network"])
    add("service_tcp", ["service_network"])
    add("service_p2p", ["service_gateway", "service_tcp"])
    add("service_chat", ["service_p2p"])


def test_start_enabled_in_dependency_order(world) -> None:
    build_chain(world)
    started = result_of(world["manager"].start_enabled(), world["clock"])
    assert started == ["service_network", "service_gateway", "service_tcp", "service_p2p", "service_chat"]
    assert [c for c in world["calls"] if c[0] == "start"] == [("start", n) for n in started]
    assert all(world["manager"].is_on(n) for n in started)
    assert [e["data"]["name"] for e in world["events"] if e["id"] == "service-started"] == started


def test_enable_flags_are_config_options(world) -> None:
    world["add"]("service_private_groups", enabled=False)
    assert world["config"].get("services/private-groups/enabled") is False
    info = world["manager"].info("service_private_groups")
    assert info["config_path"] == "services/private-groups/enabled"
    assert info["state"] == "OFF" and info["enabled"] is False


def test_disabled_service_and_its_dependents_do_not_start(world) -> None:
    add = world["add"]
    add("service_network")
    add("service_gateway", ["service_network"], enabled=False)
    add("service_p2p", ["service_gateway"])
    started = result_of(world["manager"].start_enabled(), world["clock"])
    assert started == ["service_network"]
    assert world["manager"].state("service_p2p") == "DEPENDS_OFF"
    assert "service_gateway" in world["manager"].info("service_p2p")["reason"]


def test_service_start_starts_enabled_dependencies_and_enables(world) -> None:
    build_chain(world)
    world["config"].set("services/chat/enabled", False)
    info = result_of(world["manager"].start("service_chat"), world["clock"])
    assert info["state"] == "ON"
    assert world["config"].get("services/chat/enabled") is True
    assert world["manager"].is_on("service_p2p")


def test_service_start_with_disabled_dependency_names_it(world) -> None:
    build_chain(world)
    world["config"].set("services/tcp/enabled", False)
    failure = result_of(world["manager"].start("service_chat"), world["clock"])
    assert isinstance(failure.value, ServiceError)
    assert "service_tcp" in failure.value.message
    assert status_of(failure.value) == 409
    assert not world["manager"].is_on("service_chat")


def test_service_start_with_failing_dependency_names_it(world) -> None:
    build_chain(world)
    gateway = world["manager"].get("service_gateway")
    gateway.fail_start = True
    failure = result_of(world["manager"].start("service_p2p"), world["clock"])
    assert "dependency service_gateway did not start" in failure.value.message
    assert "cannot bind its port" in failure.value.message
    assert world["manager"].state("service_gateway") == "FAILED"
    assert world["config"].get("services/p2p/enabled") is True  # unchanged from its default


def test_missing_dependency_is_named(world) -> None:
    world["add"]("service_orphan", ["service_nowhere"])
    failure = result_of(world["manager"].start("service_orphan"), world["clock"])
    assert "service_nowhere" in failure.value.message
    assert world["manager"].info("service_orphan")["missing_depends"] == ["service_nowhere"]


def test_not_installed(world) -> None:
    service = world["add"]("service_needs_identity")
    service.is_installed = False
    failure = result_of(world["manager"].start("service_needs_identity"), world["clock"])
    assert world["manager"].state("service_needs_identity") == "NOT_INSTALLED"
    assert "not installed" in failure.value.message


def test_stop_stops_dependents_first_and_disables_only_target(world) -> None:
    build_chain(world)
    result_of(world["manager"].start_enabled(), world["clock"])
    world["calls"].clear()
    info = result_of(world["manager"].stop("service_gateway"), world["clock"])
    assert info["state"] == "OFF"
    assert world["calls"] == [("stop", "service_chat"), ("stop", "service_p2p"), ("stop", "service_gateway")]
    assert world["config"].get("services/gateway/enabled") is False
    assert world["config"].get("services/p2p/enabled") is True
    assert world["manager"].is_on("service_tcp")


def test_restart_restarts_running_dependents(world) -> None:
    build_chain(world)
    result_of(world["manager"].start_enabled(), world["clock"])
    world["calls"].clear()
    info = result_of(world["manager"].restart("service_p2p"), world["clock"])
    assert info["state"] == "ON"
    assert world["calls"] == [
        ("stop", "service_chat"),
        ("stop", "service_p2p"),
        ("start", "service_p2p"),
        ("start", "service_chat"),
    ]


def test_restart_of_disabled_service_is_refused(world) -> None:
    world["add"]("service_x", enabled=False)
    with pytest.raises(InvalidInput):
        world["manager"].restart("service_x")


def test_stop_all_in_reverse_order(world) -> None:
    build_chain(world)
    result_of(world["manager"].start_enabled(), world["clock"])
    world["calls"].clear()
    result_of(world["manager"].stop_all(), world["clock"])
    stops = [name for _, name in world["calls"]]
    assert stops.index("service_chat") < stops.index("service_p2p") < stops.index("service_network")
    assert not any(world["manager"].is_on(n) for n in world["manager"].names())


def test_operations_are_serialized(world) -> None:
    add = world["add"]
    slow = add("service_slow")
    slow.pending = defer.Deferred()
    add("service_after", ["service_slow"])
    first = world["manager"].start("service_slow")
    second = world["manager"].stop("service_slow")
    assert world["manager"].state("service_slow") == "STARTING"
    fired: list = []
    first.addBoth(lambda r: (fired.append("first"), r)[1])
    second.addBoth(lambda r: (fired.append("second"), r)[1])
    assert fired == []
    slow.pending.callback(None)
    for _ in range(10):
        world["clock"].advance(0)
    assert sorted(fired) == ["first", "second"]
    # service_after (enabled) started with its dependency, and stopped before it
    assert world["calls"] == [
        ("start", "service_slow"),
        ("start", "service_after"),
        ("stop", "service_after"),
        ("stop", "service_slow"),
    ]
    assert result_of(first, world["clock"])["state"] == "ON"
    assert result_of(second, world["clock"])["state"] == "OFF"


def test_unknown_service_is_404(world) -> None:
    with pytest.raises(NotFound):
        world["manager"].info("service_nope")
    with pytest.raises(NotFound):
        world["manager"].start("service_nope")


def test_cycles_and_duplicates_refused(world) -> None:
    add = world["add"]
    add("service_a", ["service_b"])
    with pytest.raises(DependencyCycle):
        add("service_b", ["service_a"])
    with pytest.raises(ValueError):
        add("service_a")
    assert world["manager"].names() == ["service_a"]


def test_each_service_has_a_visible_machine(world) -> None:
    build_chain(world)
    machines = world["registry"].find("service")
    assert sorted(m.id for m in machines) == sorted(world["manager"].names())
    assert {m.state for m in machines} == {"OFF"}
    result_of(world["manager"].start_enabled(), world["clock"])
    assert {m.state for m in machines} == {"ON"}


def test_with_configs_lists_service_options(world) -> None:
    world["add"]("service_network")
    info = world["manager"].info("service_network", with_configs=True)
    assert sorted(c["key"] for c in info["configs"]) == [
        "services/network/enabled",
        "services/network/network-config",
        "services/network/receive-limit",
        "services/network/send-limit",
    ]


# -- dependents, identity re-checks, subsets -------------------------------------------------


def test_service_start_also_starts_enabled_stopped_dependents(world) -> None:
    """The seed: "Other dependent services, if they were enabled before but stopped, also will be started"."""
    build_chain(world)
    manager, clock = world["manager"], world["clock"]
    gateway = manager.get("service_gateway")
    gateway.is_installed = False  # no identity yet
    result_of(manager.start_enabled(), clock)
    assert manager.state("service_gateway") == "NOT_INSTALLED"
    assert manager.state("service_p2p") == "DEPENDS_OFF" and manager.state("service_chat") == "DEPENDS_OFF"
    gateway.is_installed = True
    world["calls"].clear()
    info = result_of(manager.start("service_gateway"), clock)
    assert info["state"] == "ON"
    assert world["calls"] == [("start", "service_gateway"), ("start", "service_p2p"), ("start", "service_chat")]
    assert all(manager.is_on(name) for name in ("service_network", "service_tcp", "service_p2p", "service_chat"))


def test_disabled_dependents_stay_off_and_a_failing_one_does_not_fail_the_start(world) -> None:
    build_chain(world)
    manager, clock = world["manager"], world["clock"]
    world["config"].set("services/gateway/enabled", False)
    world["config"].set("services/chat/enabled", False)
    world["add"]("service_flaky", ["service_gateway"]).fail_start = True
    result_of(manager.start_enabled(), clock)
    info = result_of(manager.start("service_gateway"), clock)
    assert info["state"] == "ON"
    assert manager.is_on("service_p2p")
    assert manager.state("service_chat") == "OFF"  # disabled: left alone
    assert manager.state("service_flaky") == "FAILED" and "cannot bind" in manager.info("service_flaky")["reason"]


def test_a_dependent_needing_another_stopped_service_starts_it_when_enabled(world) -> None:
    build_chain(world)
    manager, clock = world["manager"], world["clock"]
    world["config"].set("services/gateway/enabled", False)
    world["config"].set("services/tcp/enabled", False)
    result_of(manager.start_enabled(), clock)
    world["config"].set("services/tcp/enabled", True)  # enabled, but nobody started it
    result_of(manager.start("service_gateway"), clock)
    assert manager.is_on("service_tcp") and manager.is_on("service_p2p") and manager.is_on("service_chat")


def test_recheck_installed_moves_services_in_and_out_of_not_installed(world) -> None:
    build_chain(world)
    manager, clock = world["manager"], world["clock"]
    gateway = manager.get("service_gateway")
    gateway.is_installed = False
    result_of(manager.start_enabled(), clock)
    assert manager.state("service_gateway") == "NOT_INSTALLED"
    assert manager.recheck_installed() == []  # nothing changed yet
    gateway.is_installed = True
    assert manager.recheck_installed() == ["service_gateway"]
    info = manager.info("service_gateway")
    assert info["state"] == "OFF" and info["installed"] is True and info["reason"] is None
    assert world["calls"].count(("start", "service_gateway")) == 0  # re-checked, not started
    # stopped services whose check fails now say so too; running ones are left alone
    manager.get("service_p2p").is_installed = False
    manager.get("service_network").is_installed = False
    assert manager.recheck_installed() == ["service_p2p"]
    assert manager.state("service_p2p") == "NOT_INSTALLED" and manager.is_on("service_network")


def test_start_enabled_within_one_subtree(world) -> None:
    build_chain(world)
    world["add"]("service_elsewhere")
    manager, clock = world["manager"], world["clock"]
    started = result_of(manager.start_enabled(within="service_gateway"), clock)
    assert started == []  # service_network is off: the subtree cannot start
    started = result_of(manager.start_enabled(within="service_network"), clock)
    assert started == ["service_network", "service_gateway", "service_tcp", "service_p2p", "service_chat"]
    assert manager.state("service_elsewhere") == "OFF"
    with pytest.raises(NotFound):
        manager.start_enabled(within="service_nope")
