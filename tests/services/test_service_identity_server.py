"""service_identity_server: its HTTP port is a child service that lives while the service is ON."""

from __future__ import annotations

from pathlib import Path

from twisted.internet import error
from twisted.internet.testing import MemoryReactorClock, RaisingMemoryReactor
from twisted.web.server import Site

from bitdust.main.service_framework.service_children import ListeningService
from bitdust.services.service_identity_server import IdentityServerService
from tests.services.helpers import fake_engine, managed, settle


def test_the_http_port_is_a_child_of_the_running_service(tmp_path: Path) -> None:
    reactor = MemoryReactorClock()
    service = IdentityServerService(fake_engine(tmp_path, reactor))
    manager = managed(service, tmp_path, reactor)
    service.engine.config.set("services/identity-server/web-port", 8084)
    service.engine.config.set("services/identity-server/interface", "127.0.0.1")
    info = settle(manager.start("service_identity_server"), reactor)
    assert info["state"] == "ON"
    [(port, site, _backlog, interface)] = reactor.tcpServers
    assert (port, interface) == (8084, "127.0.0.1") and isinstance(site, Site)
    [child] = list(service)
    assert isinstance(child, ListeningService) and child.port is service.port
    assert service.web_port == 8084
    settle(manager.stop("service_identity_server"), reactor)
    assert list(service) == [] and service.port is None and service.web_port is None


def test_a_port_in_use_fails_the_start_and_names_the_option(tmp_path: Path) -> None:
    clock = MemoryReactorClock()
    reactor = RaisingMemoryReactor(listenException=error.CannotListenError("127.0.0.1", 8084, OSError("in use")))
    engine = fake_engine(tmp_path, reactor)
    # The site's timeouts run on a clock; the raising reactor has none.
    service = IdentityServerService(engine)
    manager = managed(service, tmp_path, clock)
    engine.reactor = _ClockedRaisingReactor(reactor, clock)
    settle(manager.start("service_identity_server"), clock)
    reason = manager.info("service_identity_server")["reason"]
    assert manager.state("service_identity_server") == "FAILED"
    assert "identity server cannot listen on 127.0.0.1:" in reason and "services/identity-server/web-port" in reason
    assert "in use" in reason and list(service) == [] and service.port is None


class _ClockedRaisingReactor:
    """A reactor whose listenTCP raises (a port in use) and whose time is a clock."""

    def __init__(self, raising: RaisingMemoryReactor, clock: MemoryReactorClock) -> None:
        self.listenTCP = raising.listenTCP
        self.callLater = clock.callLater
        self.seconds = clock.seconds
