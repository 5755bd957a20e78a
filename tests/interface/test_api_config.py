from __future__ import annotations

import types

import pytest
from twisted.internet import defer
from twisted.logger import Logger

from bitdust.interface.api import config as api
from bitdust.interface.api.spec import REQUIRED, specs_of
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput, NotFound
from bitdust.main.settings.config import Config
from bitdust.main.settings.config_options import Option
from bitdust.main.settings.config_types import Bool


@pytest.fixture
def engine(tmp_path):
    config = Config(tmp_path / "config", log=Logger(observer=lambda event: None))
    config.load()
    # blocking work runs inline here; the real engine sends it to a worker thread
    return types.SimpleNamespace(config=config, run_blocking=lambda fn, *args: defer.maybeDeferred(fn, *args))


def fired(d: defer.Deferred):
    results: list = []
    d.addBoth(results.append)
    assert results, "deferred did not fire"
    return results[0]


def test_specs_match_the_seed():
    specs = {spec.name: spec for spec in specs_of(api)}
    assert {name: (spec.verb, spec.path) for name, spec in specs.items()} == {
        "config_get": ("GET", "config/get/v1"),
        "config_set": ("POST", "config/set/v1"),
        "configs_list": ("GET", "config/list/v1"),
        "configs_tree": ("GET", "config/tree/v1"),
    }
    signatures = {name: [(p.name, p.kind, p.default) for p in spec.params] for name, spec in specs.items()}
    assert signatures == {
        "config_get": [("key", "str", REQUIRED), ("include_info", "bool", False)],
        "config_set": [("key", "str", REQUIRED), ("value", "any", REQUIRED)],
        "configs_list": [("sort", "bool", False), ("include_info", "bool", False)],
        "configs_tree": [("include_info", "bool", False)],
    }
    for spec in specs.values():
        assert spec.summary and spec.description
        assert all(param.description for param in spec.params)


def test_config_get_option(engine):
    assert api.config_get(engine, key="logs/debug-level") == [{"key": "logs/debug-level", "value": 0}]
    assert api.config_get(engine, key="/logs/max-size/") == [{"key": "logs/max-size", "value": "10 MB"}]


def test_config_get_option_with_info(engine):
    assert api.config_get(engine, key="interface/api/rest-http-port", include_info=True) == [
        {
            "key": "interface/api/rest-http-port",
            "value": 8180,
            "type": "port",
            "default": 8180,
            "label": "local TCP port of the REST API",
            "readonly": False,
        }
    ]


def test_config_get_folder_lists_children(engine):
    assert api.config_get(engine, key="interface") == [{"key": "interface/api", "childs": True}]
    services = api.config_get(engine, key="services/network")
    assert services == [
        {"key": "services/network/network-config", "value": "", "childs": False},
        {"key": "services/network/receive-limit", "value": 125000000, "childs": False},
        {"key": "services/network/send-limit", "value": 12500000, "childs": False},
    ]
    detailed = api.config_get(engine, key="services/network", include_info=True)
    assert detailed[1] == {**engine.config.info("services/network/receive-limit"), "childs": False}
    assert [item["key"] for item in api.config_get(engine, key="")] == ["interface", "logs", "personal", "services"]


def test_config_get_unknown(engine):
    with pytest.raises(NotFound) as caught:
        api.config_get(engine, key="logs/nothing")
    assert caught.value.message == "option logs/nothing not found"
    assert status_of(caught.value) == 404


def test_config_set_returns_info_and_old_value(engine):
    result = fired(api.config_set(engine, key="logs/debug-level", value=12))
    assert result == [
        {
            "key": "logs/debug-level",
            "value": 12,
            "type": "integer",
            "default": 0,
            "label": "log detail: 0 logs info and above, higher values log more",
            "readonly": False,
            "old_value": 0,
        }
    ]
    assert engine.config.get("logs/debug-level") == 12


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("logs/api-enabled", "true", True),
        ("logs/api-enabled", 0, False),
        ("logs/debug-level", "7", 7),
        ("logs/max-size", "20MB", 20 * 1024 * 1024),
        ("personal/private-key-size", "4096", 4096),
    ],
)
def test_config_set_accepts_json_values_and_text(engine, key, value, expected):
    api.config_set(engine, key=key, value=value)
    assert engine.config.get(key) == expected


def test_config_set_errors(engine):
    with pytest.raises(InvalidInput) as caught:
        api.config_set(engine, key="logs/debug-level", value="abc")
    assert caught.value.message == 'wrong value for logs/debug-level: expected integer from 0 to 20, got "abc"'
    assert status_of(caught.value) == 400
    assert engine.config.get("logs/debug-level") == 0
    with pytest.raises(NotFound):
        api.config_set(engine, key="logs/nothing", value=1)
    with pytest.raises(InvalidInput):
        api.config_set(engine, key="logs", value=1)


def test_configs_list(engine):
    listed = api.configs_list(engine)
    assert listed[0] == {"key": "interface/api/auth-secret-enabled", "value": True}
    assert [item["key"] for item in listed] == engine.config.keys()
    assert all(set(item) == {"key", "value"} for item in listed)
    ordered = api.configs_list(engine, sort=True, include_info=True)
    assert [item["key"] for item in ordered] == sorted(engine.config.keys())
    assert all(set(item) == {"key", "value", "type", "default", "label", "readonly"} for item in ordered)


def test_configs_list_includes_runtime_options(engine):
    engine.config.register(Option("services/supplier/enabled", Bool(), True, "start service_supplier"))
    keys = [item["key"] for item in api.configs_list(engine)]
    assert "services/supplier/enabled" in keys


def test_configs_tree(engine):
    tree = api.configs_tree(engine)
    assert tree["logs"]["debug-level"] == 0
    assert tree["interface"]["api"]["web-socket-port"] == 8280
    detailed = api.configs_tree(engine, include_info=True)
    assert detailed["personal"]["private-key-size"] == {
        "key": "personal/private-key-size",
        "value": 2048,
        "type": "enum",
        "default": 2048,
        "label": "size in bits of newly generated RSA keys",
        "readonly": False,
    }
