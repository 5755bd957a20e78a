"""The registry: lookup, routing, and the one place where outcomes become envelopes."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from twisted.internet import defer
from twisted.logger import Logger

from bitdust.interface.api.registry import ApiRegistry
from bitdust.interface.api.spec import api_method, specs_of
from tests.interface import fake_api


def result_of(d: defer.Deferred[Any]) -> Any:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    return out[0]


@pytest.fixture
def engine() -> fake_api.FakeEngine:
    return fake_api.FakeEngine()


@pytest.fixture
def logged() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def registry(engine: fake_api.FakeEngine, logged: list[dict[str, Any]]) -> ApiRegistry:
    return fake_api.make_registry(engine, log=Logger(observer=logged.append))


# -- lookup and routes ------------------------------------------------------------------------


def test_specs_in_registration_order_and_get(registry: ApiRegistry) -> None:
    assert [s.name for s in registry.specs()] == [s.name for s in fake_api.specs()]
    assert registry.get("fake_echo").path == "fake/echo/v1"
    assert registry.get("nope") is None


def test_from_modules_reads_the_decorated_functions(engine: fake_api.FakeEngine) -> None:
    built = ApiRegistry.from_modules(engine, [fake_api])
    assert [s.name for s in built.specs()] == [s.name for s in specs_of(fake_api)]


def test_match_literal_and_path_parameters(registry: ApiRegistry) -> None:
    spec, args = registry.match("GET", "fake/echo/v1")
    assert (spec.name, args) == ("fake_echo", {})
    spec, args = registry.match("get", "/fake/listen/consumer-1/v1/")
    assert (spec.name, args) == ("fake_listen", {"consumer_id": "consumer-1"})
    spec, args = registry.match("PUT", "fake/service/service_x/v1")
    assert (spec.name, args) == ("fake_service_set", {"service_name": "service_x"})


def test_match_misses(registry: ApiRegistry) -> None:
    assert registry.match("GET", "fake/listen//v1") is None
    assert registry.match("GET", "fake/listen/a/b/v1") is None
    assert registry.match("GET", "fake/echo/v2") is None
    assert registry.match("POST", "fake/echo/v1") is None


def test_404_or_405(registry: ApiRegistry) -> None:
    assert registry.path_known("fake/echo/v1")
    assert not registry.path_known("fake/unknown/v1")
    assert registry.allowed_verbs("fake/items/add/v1") == ["DELETE", "POST"]
    assert registry.allowed_verbs("/fake/listen/x/v1") == ["GET"]


def test_duplicate_names_and_routes_are_refused(engine: fake_api.FakeEngine) -> None:
    echo = fake_api.specs()[0]
    with pytest.raises(ValueError, match="registered twice"):
        ApiRegistry(engine, [echo, echo])
    twin = attrs.evolve(echo, name="fake_echo_twin")
    with pytest.raises(ValueError, match="share the route"):
        ApiRegistry(engine, [echo, twin])
    listen = fake_api.specs()[3]
    other = attrs.evolve(listen.params[0], name="other")
    renamed = attrs.evolve(listen, name="other", path="fake/listen/{other}/v1", params=(other,))
    with pytest.raises(ValueError, match="share the route"):
        ApiRegistry(engine, [listen, renamed])


def test_a_path_segment_without_its_parameter_is_refused(engine: fake_api.FakeEngine) -> None:
    @api_method("GET", "x/{name}/v1")
    def broken(engine: Any) -> None:
        """Forgot its parameter."""

    with pytest.raises(ValueError, match="does not match"):
        ApiRegistry(engine, [broken.__bitdust_api__])


# -- calls ------------------------------------------------------------------------------------


def test_sync_call(registry: ApiRegistry, engine: fake_api.FakeEngine) -> None:
    code, answer = result_of(registry.call("fake_echo", {"text": "hi", "loud": "1"}))
    assert code == 200
    assert answer == {"status": "OK", "result": {"text": "HI", "times": 1}, "execution": "0.000107"}
    assert engine.calls == [("fake_echo", {"text": "hi", "times": 1, "loud": True})]


def test_none_result_is_still_in_the_envelope(registry: ApiRegistry) -> None:
    assert result_of(registry.call("fake_health", {}))[1] == {"status": "OK", "result": None, "execution": "0.000107"}


def test_api_result_adds_the_message(registry: ApiRegistry) -> None:
    code, answer = result_of(registry.call("fake_items_add", {"items": "a,b"}, from_strings=True))
    assert code == 200
    assert answer["message"] == "2 items added"
    assert answer["result"]["items"] == ["a", "b"]


def test_async_call_fires_later(registry: ApiRegistry, engine: fake_api.FakeEngine) -> None:
    d = registry.call("fake_later", {"value": 2})
    assert not d.called
    engine.later[-1].callback(40)
    code, answer = result_of(d)
    assert (code, answer["result"]) == (200, 42)
    assert answer["execution"] != "0.000000"


@pytest.mark.parametrize(
    ("name", "kwargs", "code", "errors"),
    [
        ("fake_bad", {}, 400, ["that will never work"]),
        ("fake_missing", {"name": "x"}, 404, ["no such thing: x"]),
        ("fake_echo", {}, 400, ["missing required parameter: text"]),
        ("fake_echo", {"text": "a", "zzz": 1}, 400, ["unknown parameter: zzz; allowed: text, times, loud"]),
        ("nope", {}, 404, ["unknown method: nope"]),
    ],
)
def test_domain_errors_keep_their_code(
    registry: ApiRegistry, name: str, kwargs: dict[str, Any], code: int, errors: list[str]
) -> None:
    assert result_of(registry.call(name, kwargs)) == (
        code,
        {"status": "ERROR", "errors": errors, "execution": "0.000107"},
    )


def test_unexpected_exception_is_500_without_details_and_logged(
    registry: ApiRegistry, logged: list[dict[str, Any]]
) -> None:
    code, answer = result_of(registry.call("fake_crash", {}))
    assert code == 500
    assert answer["errors"] == ["internal error: RuntimeError; see the engine log"]
    assert "internal detail" not in repr(answer)
    failures = [e for e in logged if "log_failure" in e]
    assert len(failures) == 1
    assert "internal detail" in failures[0]["log_failure"].getTraceback()


def test_unjsonable_result_is_500(registry: ApiRegistry, logged: list[dict[str, Any]]) -> None:
    code, answer = result_of(registry.call("fake_unjsonable", {}))
    assert code == 500
    assert answer["errors"] == ["internal error: TypeError; see the engine log"]
    assert any("log_failure" in e for e in logged)


def test_cancel_by_the_caller_propagates_and_reaches_the_method(
    registry: ApiRegistry, engine: fake_api.FakeEngine
) -> None:
    d = registry.call("fake_listen", {"consumer_id": "c1"})
    assert not d.called
    d.cancel()
    assert engine.cancelled == ["c1"]
    assert result_of(d).check(defer.CancelledError)


def test_a_method_cancelling_itself_is_an_internal_error(registry: ApiRegistry, engine: fake_api.FakeEngine) -> None:
    d = registry.call("fake_listen", {"consumer_id": "c2"})
    engine.listeners["c2"].cancel()
    code, answer = result_of(d)
    assert code == 500
    assert answer["errors"] == ["internal error: CancelledError; see the engine log"]


def test_long_poll_answer(registry: ApiRegistry, engine: fake_api.FakeEngine) -> None:
    d = registry.call("fake_listen", {"consumer_id": "c3"})
    engine.listeners["c3"].callback([{"event": 1}])
    assert result_of(d)[1]["result"] == [{"event": 1}]
    d.cancel()  # too late: nothing happens
    assert engine.cancelled == []


def test_call_logging_switch(engine: fake_api.FakeEngine) -> None:
    logged: list[dict[str, Any]] = []
    switch = {"on": False}
    registry = fake_api.make_registry(engine, log=Logger(observer=logged.append), log_calls=lambda: switch["on"])
    result_of(registry.call("fake_health", {}))
    assert logged == []
    switch["on"] = True
    result_of(registry.call("fake_bad", {}))
    assert [(e["method"], e["code"]) for e in logged] == [("fake_bad", 400)]


def test_a_broken_logging_switch_does_not_break_calls(engine: fake_api.FakeEngine) -> None:
    def broken() -> bool:
        raise OSError("config unreadable")

    registry = fake_api.make_registry(engine, log_calls=broken)
    assert result_of(registry.call("fake_health", {}))[0] == 200
