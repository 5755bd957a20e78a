"""The engine opens logs/event.log with the same rotation options as main.log."""

from __future__ import annotations

import pytest_twisted
from twisted.internet import reactor

from bitdust.node.composition import create_engine


@pytest_twisted.inlineCallbacks
def test_event_log_rotates_at_logs_max_size(tmp_path):
    home = tmp_path / "node"
    (home / "config" / "logs").mkdir(parents=True)
    (home / "config" / "logs" / "max-size").write_text("1024\n")
    (home / "config" / "logs" / "max-files").write_text("2\n")
    engine = create_engine(home, reactor=reactor, rest_port=0, ws_port=0, service_factories=[])
    engine.startService()
    yield engine.ready
    try:
        for i in range(200):
            engine.events.send("burst", {"i": i, "pad": "y" * 50})
    finally:
        yield engine.stop()
    logs = home / "logs"
    assert sorted(p.name for p in logs.glob("event.log*")) == ["event.log", "event.log.1", "event.log.2"]
    assert all(p.stat().st_size <= 1024 + 200 for p in logs.glob("event.log*"))
