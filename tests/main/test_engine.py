"""A whole engine in this process on loopback (real reactor, free ports), with test services.

The real engine processes are exercised by tests/e2e; here the engine is built with services
defined in the test, which the real engine does not have yet, to drive the service API.
"""

from __future__ import annotations

import json
from io import BytesIO
from urllib.parse import urlencode

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers

from bitdust.main.errors import EngineLocked
from bitdust.main.service_framework.service import BitDustService
from bitdust.node.composition import create_engine


class Recorder(BitDustService):
    def __init__(self, engine, name, depends=(), enabled=True, fail=False):
        super().__init__(engine)
        self.name = name
        self.depends_on = tuple(depends)
        self.enabled_by_default = enabled
        self.fail = fail

    def start(self):
        if self.fail:
            raise RuntimeError("no disk space")
        return defer.succeed(None)


def factories():
    return [
        lambda e: Recorder(e, "service_network"),
        lambda e: Recorder(e, "service_gateway", ["service_network"]),
        lambda e: Recorder(e, "service_chat", ["service_gateway"], enabled=False),
        lambda e: Recorder(e, "service_broken", ["service_network"], enabled=False, fail=True),
    ]


@pytest_twisted.inlineCallbacks
def make_engine(home):
    engine = create_engine(home, reactor=reactor, rest_port=0, ws_port=0, service_factories=factories())
    engine.startService()
    yield engine.ready
    return engine


@pytest_twisted.inlineCallbacks
def call(engine, verb, path, params=None, secret=True):
    headers = {"Content-Type": ["application/json"]}
    if secret:
        headers["api_secret"] = [engine.secret]
    body = None
    url = f"http://127.0.0.1:{engine.api.rest_port}/{path}"
    if verb == "GET" and params:
        url += "?" + urlencode(params)
    elif params is not None:
        body = FileBodyProducer(BytesIO(json.dumps(params).encode()))
    response = yield Agent(reactor).request(verb.encode(), url.encode(), Headers(headers), body)
    raw = yield readBody(response)
    return response.code, json.loads(raw)


@pytest.fixture
def home(tmp_path):
    return tmp_path / "node"


@pytest_twisted.inlineCallbacks
def test_engine_lifecycle_and_service_api(home):
    engine = yield make_engine(home)
    try:
        assert engine.state == "READY"
        assert (home / "metadata" / "processid").exists()
        code, env = yield call(engine, "GET", "service/list/v1")
        assert code == 200
        states = {s["name"]: s["state"] for s in env["result"]}
        assert states == {
            "service_network": "ON",
            "service_gateway": "ON",
            "service_chat": "OFF",
            "service_broken": "OFF",
        }
        code, env = yield call(engine, "GET", "service/info/service_gateway/v1")
        assert code == 200 and env["result"]["depends"] == ["service_network"]
        code, env = yield call(engine, "GET", "service/info/service_nope/v1")
        assert code == 404 and "service_nope" in env["errors"][0]

        code, env = yield call(engine, "POST", "service/start/service_chat/v1")
        assert code == 200 and env["result"]["state"] == "ON"
        assert engine.config.get("services/chat/enabled") is True

        code, env = yield call(engine, "POST", "service/start/service_broken/v1")
        assert code == 409 and "no disk space" in env["errors"][0]

        code, env = yield call(engine, "POST", "service/stop/service_network/v1")
        assert code == 200 and env["result"]["state"] == "OFF"
        assert not engine.services.is_on("service_chat")
        assert engine.config.get("services/chat/enabled") is True
        assert engine.config.get("services/network/enabled") is False

        code, env = yield call(engine, "POST", "service/start/service_chat/v1")
        assert code == 409 and "service_network" in env["errors"][0] and "disabled" in env["errors"][0]

        code, env = yield call(engine, "POST", "service/start/service_network/v1")
        assert code == 200
        code, env = yield call(engine, "POST", "service/restart/service_gateway/v1", {"wait_timeout": 5})
        assert code == 200 and env["result"]["state"] == "ON"
        code, env = yield call(engine, "POST", "service/restart/service_gateway/v1", {"wait_timeout": "soon"})
        assert code == 400

        code, env = yield call(engine, "GET", "automat/list/v1")
        names = [m["name"] for m in env["result"]]
        assert names.count("service") == 4 and "initializer" in names and "shutdowner" in names
        index = next(m["index"] for m in env["result"] if m["id"] == "service_chat")
        code, env = yield call(engine, "GET", "automat/info/v1", {"index": index})
        assert code == 200 and env["result"]["transitions"]
        code, env = yield call(engine, "GET", "automat/info/v1", {"index": 9999})
        assert code == 404
        code, env = yield call(engine, "GET", "automat/diagram/v1", {"name": "service", "format": "dot"})
        assert code == 200 and "digraph" in env["result"]["diagram"] and env["result"]["live_states"]["ON"] >= 1
        code, env = yield call(engine, "GET", "automat/diagram/v1", {"name": "nope"})
        assert code == 404

        code, env = yield call(engine, "GET", "process/info/v1")
        # network, and what service_start of network brought back with it: gateway and chat (enabled)
        assert env["result"]["service"] == {"active": 3, "total": 4}
        code, env = yield call(engine, "GET", "process/debug/v1")
        assert code == 409 and "terminal" in env["errors"][0]
        code, env = yield call(engine, "GET", "process/health/v1", secret=False)
        assert code == 401
    finally:
        yield engine.stop()
    assert engine.state == "STOPPED"
    assert not (home / "metadata" / "processid").exists()
    assert all(m.state != "ON" for m in engine.automats.find("service"))


@pytest_twisted.inlineCallbacks
def test_second_engine_on_same_home_fails_cleanly(home):
    first = yield make_engine(home)
    try:
        second = create_engine(home, reactor=reactor, rest_port=0, ws_port=0, service_factories=[])
        second.startService()
        with pytest.raises(EngineLocked):
            yield second.ready
        yield second.finished
        assert second.initializer.state == "FAILED"
        assert "already running" in second.startup_error
        code, env = yield call(first, "GET", "process/health/v1")
        assert code == 200
    finally:
        yield first.stop()


@pytest_twisted.inlineCallbacks
def test_config_change_becomes_an_event(home):
    engine = yield make_engine(home)
    try:
        listen = engine.events.listen("watcher", timeout=10)
        code, env = yield call(engine, "POST", "config/set/v1", {"key": "logs/debug-level", "value": 12})
        assert code == 200
        events = yield listen
        assert events[0]["id"] == "config-changed"
        assert events[0]["data"]["key"] == "logs/debug-level" and events[0]["data"]["value"] == 12
        code, env = yield call(engine, "POST", "config/set/v1", {"key": "logs/debug-level", "value": "abc"})
        assert code == 400 and "logs/debug-level" in env["errors"][0]
        assert engine.config.get("logs/debug-level") == 12
    finally:
        yield engine.stop()
