from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.logger import Logger, LogLevel

from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput, NotFound
from bitdust.main.settings.config import CONFIG_CHANGED_EVENT, Config
from bitdust.main.settings.config_options import DEFAULT_OPTIONS, Option
from bitdust.main.settings.config_types import MB, Bool, Enum, Int, PositiveInt, Size, String, StringList


class Recorder:
    """Collects log events and watcher calls."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.calls: list[tuple] = []

    def log(self) -> Logger:
        return Logger(namespace="test", observer=self.events.append)

    def __call__(self, key, new, old) -> None:
        self.calls.append((key, new, old))

    def warnings(self) -> list[dict]:
        return [e for e in self.events if e["log_level"] >= LogLevel.warn]


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def config(folder: Path, rec: Recorder) -> Config:
    cfg = Config(folder, log=rec.log())
    cfg.load()
    return cfg


def file_text(folder: Path, key: str) -> str:
    return (folder / key).read_text()


def all_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- defaults and files ------------------------------------------------------------------------


def test_defaults_before_and_after_load(folder, rec):
    cfg = Config(folder, log=rec.log())
    assert cfg.get("interface/api/rest-http-port") == 8180
    assert not folder.exists()
    cfg.load()
    assert cfg.get("logs/debug-level") == 0
    assert cfg.get("logs/max-size") == 10 * MB
    assert cfg.get("personal/private-key-size") == 2048
    assert cfg.get("services/network/receive-limit") == 125000000
    assert rec.warnings() == []


def test_first_load_writes_every_missing_file(config, folder):
    assert all_files(folder) == sorted(option.key for option in DEFAULT_OPTIONS)
    assert file_text(folder, "logs/debug-level") == "0\n"
    assert file_text(folder, "interface/api/max-request-size") == "1 MB\n"
    assert file_text(folder, "interface/api/auth-secret-enabled") == "true\n"
    assert (folder / "logs/debug-level").stat().st_mode & 0o777 == 0o600


def test_load_keeps_existing_files(folder, rec):
    (folder / "logs").mkdir(parents=True)
    (folder / "logs/debug-level").write_text("12")
    (folder / "logs/max-size").write_text("\ufeff2 MB\r\n")  # BOM and CRLF from a Windows editor
    cfg = Config(folder, log=rec.log())
    cfg.load()
    assert cfg.get("logs/debug-level") == 12
    assert cfg.get("logs/max-size") == 2 * MB
    assert file_text(folder, "logs/debug-level") == "12"


def test_persists_across_instances(config, folder, rec):
    config.set("logs/debug-level", 14)
    config.set("logs/max-size", "20MB")
    again = Config(folder, log=rec.log())
    again.load()
    assert again.get("logs/debug-level") == 14
    assert again.get("logs/max-size") == 20 * MB
    assert file_text(folder, "logs/max-size") == "20 MB\n"


@pytest.mark.parametrize("content", ["abc", "99", "", "1.5", "\xff\xfe"])
def test_corrupted_file_falls_back_to_default_with_a_log(folder, rec, content):
    path = folder / "logs" / "debug-level"
    path.parent.mkdir(parents=True)
    path.write_bytes(content.encode("latin-1"))
    cfg = Config(folder, log=rec.log())
    cfg.load()
    assert cfg.get("logs/debug-level") == 0
    assert path.read_bytes() == content.encode("latin-1")  # the user's file is left for them to fix
    warnings = rec.warnings()
    assert len(warnings) == 1
    assert warnings[0]["key"] == "logs/debug-level"


def test_unreadable_file_falls_back_to_default(folder, rec):
    (folder / "logs" / "debug-level").mkdir(parents=True)  # a folder where a file should be
    cfg = Config(folder, log=rec.log())
    cfg.load()
    assert cfg.get("logs/debug-level") == 0
    assert [w["key"] for w in rec.warnings()] == ["logs/debug-level"]


def test_set_leaves_no_temporary_files(config, folder):
    for level in range(5):
        config.set("logs/debug-level", level)
    assert all_files(folder) == sorted(option.key for option in DEFAULT_OPTIONS)
    assert not [name for name in os.listdir(folder / "logs") if name.startswith(".")]


@settings(max_examples=30, deadline=None)
@given(value=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")))
def test_string_values_survive_the_file(value):
    option = Option("test/name", String(), "", "a string")
    with tempfile.TemporaryDirectory() as tmp:
        first = Config(Path(tmp), (option,), log=Logger(observer=lambda e: None))
        first.load()
        first.set("test/name", value)
        second = Config(Path(tmp), (option,), log=Logger(observer=lambda e: None))
        second.load()
        assert second.get("test/name") == value


# -- get and set -------------------------------------------------------------------------------


def test_get_unknown_key(config):
    with pytest.raises(NotFound) as caught:
        config.get("logs/nothing")
    assert caught.value.message == "option logs/nothing not found"
    assert status_of(caught.value) == 404


def test_set_returns_info_with_old_value(config, folder):
    result = config.set("logs/debug-level", "12")
    assert result == {
        "key": "logs/debug-level",
        "value": 12,
        "type": "integer",
        "default": 0,
        "label": "log detail: 0 logs info and above, higher values log more",
        "readonly": False,
        "old_value": 0,
    }
    assert config.get("logs/debug-level") == 12
    assert file_text(folder, "logs/debug-level") == "12\n"


def test_set_size_shows_json_forms(config):
    result = config.set("logs/max-size", 4 * MB)
    assert (result["value"], result["old_value"], result["default"]) == ("4 MB", "10 MB", "10 MB")


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("logs/debug-level", "abc", 'wrong value for logs/debug-level: expected integer from 0 to 20, got "abc"'),
        ("logs/debug-level", 21, "wrong value for logs/debug-level: expected integer from 0 to 20, got 21"),
        ("logs/api-enabled", "sure", 'wrong value for logs/api-enabled: expected boolean (true or false), got "sure"'),
        (
            "interface/api/rest-http-port",
            0,
            "wrong value for interface/api/rest-http-port: expected port number from 1 to 65535, got 0",
        ),
        (
            "personal/private-key-size",
            512,
            "wrong value for personal/private-key-size: expected one of 1024, 2048, 4096, got 512",
        ),
        ("logs/max-files", None, "wrong value for logs/max-files: expected positive integer (1 or more), got null"),
    ],
)
def test_bad_set_changes_nothing(config, folder, rec, key, value, message):
    before = config.get(key)
    text_before = file_text(folder, key)
    config.add_listener(rec)
    with pytest.raises(InvalidInput) as caught:
        config.set(key, value)
    assert caught.value.message == message
    assert status_of(caught.value) == 400
    assert config.get(key) == before
    assert file_text(folder, key) == text_before
    assert rec.calls == []


def test_long_bad_value_is_shortened_in_the_message(config):
    with pytest.raises(InvalidInput) as caught:
        config.set("logs/debug-level", "x" * 500)
    assert caught.value.message.startswith('wrong value for logs/debug-level: expected integer from 0 to 20, got "xxx')
    assert caught.value.message.endswith("...") and len(caught.value.message) < 160


def test_set_readonly_option(folder, rec):
    cfg = Config(folder, (Option("node/created", Int(), 0, "when", readonly=True),), log=rec.log())
    cfg.load()
    with pytest.raises(InvalidInput, match="option node/created is read-only"):
        cfg.set("node/created", 5)
    assert cfg.get("node/created") == 0


def test_set_unknown_key_and_folder(config):
    with pytest.raises(NotFound, match="option logs/nothing not found"):
        config.set("logs/nothing", 1)
    with pytest.raises(InvalidInput, match="logs is a folder of options, not an option"):
        config.set("logs", 1)


def test_set_write_failure_changes_nothing(config, folder, rec, monkeypatch):
    def disk_full(path, data, mode=0o644):
        raise OSError(28, "No space left on device")

    config.add_listener(rec)
    monkeypatch.setattr("bitdust.main.settings.config_files.atomic_write", disk_full)
    with pytest.raises(OSError):
        config.set("logs/debug-level", 3)
    assert config.get("logs/debug-level") == 0
    assert file_text(folder, "logs/debug-level") == "0\n"
    assert rec.calls == []


def test_unwritable_folder_does_not_stop_load(folder, rec, monkeypatch):
    def read_only(path, data, mode=0o644):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("bitdust.main.settings.config_files.atomic_write", read_only)
    cfg = Config(folder, log=rec.log())
    cfg.load()
    assert cfg.get("logs/debug-level") == 0
    assert len(rec.warnings()) == len(DEFAULT_OPTIONS)


# -- watchers ----------------------------------------------------------------------------------


def test_watchers_by_key_and_prefix(config, rec):
    by_key, by_folder, by_root, other = Recorder(), Recorder(), Recorder(), Recorder()
    config.watch("logs/debug-level", by_key)
    config.watch("logs", by_folder)
    config.watch("interface", other)
    config.add_listener(by_root)
    config.set("logs/debug-level", 5)
    config.set("logs/api-enabled", "yes")
    assert by_key.calls == [("logs/debug-level", 5, 0)]
    assert by_folder.calls == [("logs/debug-level", 5, 0), ("logs/api-enabled", True, False)]
    assert by_root.calls == by_folder.calls
    assert other.calls == []


def test_watch_prefix_is_a_whole_segment(folder, rec):
    options = (Option("a/b", Bool(), False, "b"), Option("a/bc", Bool(), False, "bc"))
    cfg = Config(folder, options, log=rec.log())
    cfg.load()
    cfg.watch("a/b", rec)
    cfg.set("a/bc", True)
    assert rec.calls == []


def test_same_value_succeeds_without_notification(config, rec):
    config.watch("logs", rec)
    result = config.set("logs/debug-level", "0")
    assert result["old_value"] == 0 and result["value"] == 0
    assert rec.calls == []


def test_cancel_stops_callbacks(config, rec):
    handle = config.watch("logs", rec)
    handle.cancel()
    handle.cancel()
    config.set("logs/debug-level", 2)
    assert rec.calls == []


def test_raising_watcher_is_logged_and_does_not_break_set(config, rec):
    def broken(key, new, old):
        raise RuntimeError("boom")

    config.watch("logs", broken)
    config.watch("logs", rec)
    result = config.set("logs/debug-level", 7)
    assert result["value"] == 7
    assert rec.calls == [("logs/debug-level", 7, 0)]
    failures = [e for e in rec.events if "log_failure" in e]
    assert len(failures) == 1 and failures[0]["log_failure"].check(RuntimeError)


def test_reload_notifies_changed_values(config, folder, rec):
    config.add_listener(rec)
    (folder / "logs" / "debug-level").write_text("3\n")
    config.load()
    assert rec.calls == [("logs/debug-level", 3, 0)]


def test_change_data_for_the_event(config):
    assert CONFIG_CHANGED_EVENT == "config-changed"
    assert config.change_data("logs/max-size", 2 * MB, 10 * MB) == {
        "key": "logs/max-size",
        "value": "2 MB",
        "old_value": "10 MB",
    }


# -- registration ------------------------------------------------------------------------------


def test_register_at_run_time_after_load(config, folder):
    (folder / "services" / "supplier").mkdir(parents=True)
    (folder / "services" / "supplier" / "enabled").write_text("false\n")
    config.register(Option("services/supplier/enabled", Bool(), True, "start service_supplier"))
    config.register(Option("services/customer/enabled", Bool(), True, "start service_customer"))
    assert config.get("services/supplier/enabled") is False
    assert config.get("services/customer/enabled") is True
    assert file_text(folder, "services/customer/enabled") == "true\n"


def test_register_before_load_uses_the_file_on_load(folder, rec):
    (folder / "services" / "x").mkdir(parents=True)
    (folder / "services" / "x" / "enabled").write_text("off")
    cfg = Config(folder, log=rec.log())
    cfg.register(Option("services/x/enabled", Bool(), True, "x"))
    assert cfg.get("services/x/enabled") is True
    cfg.load()
    assert cfg.get("services/x/enabled") is False


def test_register_same_definition_is_a_no_op_and_different_is_an_error(config):
    option = Option("services/x/enabled", Bool(), True, "x")
    config.register(option)
    config.set("services/x/enabled", False)
    config.register(Option("services/x/enabled", Bool(), True, "x"))
    assert config.get("services/x/enabled") is False
    with pytest.raises(ValueError, match="different definition"):
        config.register(Option("services/x/enabled", Bool(), False, "x"))


def test_register_refuses_key_and_folder_clashes(config):
    with pytest.raises(ValueError):
        config.register(Option("logs", Bool(), True, "a file where the logs folder is"))
    with pytest.raises(ValueError):
        config.register(Option("logs/debug-level/more", Bool(), True, "under an option"))


@pytest.mark.parametrize("key", ["Logs/x", "logs//x", "/logs", "logs/", "../x", "logs/a_b", "logs/a b", "", "ö"])
def test_option_refuses_bad_keys(key):
    with pytest.raises(ValueError, match="bad option key"):
        Option(key, Bool(), True, "bad")


def test_option_refuses_bad_defaults():
    with pytest.raises(ValueError, match="does not fit"):
        Option("a/b", Int(min=0), -1, "negative")
    with pytest.raises(ValueError, match="parsed value"):
        Option("a/b", Size(), "1 MB", "text instead of bytes")
    with pytest.raises(ValueError, match="parsed value"):
        Option("a/b", StringList(), ["x"], "a list instead of a tuple")
    with pytest.raises(ValueError, match="one line"):
        Option("a/b", Bool(), True, "two\nlines")


def test_default_options_are_valid_and_described():
    keys = [option.key for option in DEFAULT_OPTIONS]
    assert len(keys) == len(set(keys))
    assert all(option.description for option in DEFAULT_OPTIONS)
    sizes = {option.key: option for option in DEFAULT_OPTIONS}["personal/private-key-size"]
    assert sizes.type == Enum((1024, 2048, 4096)) and sizes.default == 2048
    assert {option.key: option for option in DEFAULT_OPTIONS}["logs/max-files"].type == PositiveInt()


# -- introspection -----------------------------------------------------------------------------


def test_info_shape(config):
    assert config.info("interface/api/max-request-size") == {
        "key": "interface/api/max-request-size",
        "value": "1 MB",
        "type": "size",
        "default": "1 MB",
        "label": "largest REST request body or WebSocket frame the API accepts",
        "readonly": False,
    }
    with pytest.raises(NotFound):
        config.info("nope")


def test_keys_folders_and_children(config):
    assert config.keys() == [option.key for option in DEFAULT_OPTIONS]
    assert config.is_folder("logs") and config.is_folder("interface/api") and config.is_folder("/interface/")
    assert config.is_folder("")
    assert not config.is_folder("logs/debug-level") and not config.is_folder("log")
    assert config.children("") == ["interface", "logs", "personal", "services"]
    assert config.children("interface") == ["interface/api"]
    assert config.children("services/network") == [
        "services/network/network-config",
        "services/network/receive-limit",
        "services/network/send-limit",
    ]
    assert config.children("logs/debug-level") == []
    assert "logs/debug-level" in config and "logs" not in config


def test_list(config):
    listed = config.list()
    assert [item["key"] for item in listed] == config.keys()
    assert listed[0] == config.info(listed[0]["key"])
    assert [item["key"] for item in config.list(sort=True)] == sorted(config.keys())


def test_tree(config):
    config.set("logs/debug-level", 4)
    tree = config.tree()
    assert tree["logs"]["debug-level"] == 4
    assert tree["interface"]["api"]["rest-http-port"] == 8180
    assert tree["logs"]["max-size"] == "10 MB"
    assert tree["services"]["network"] == {"network-config": "", "receive-limit": 125000000, "send-limit": 12500000}
    assert list(tree) == ["interface", "logs", "personal", "services"]
    detailed = config.tree(include_info=True)
    assert detailed["logs"]["debug-level"] == config.info("logs/debug-level")


def test_string_list_option_round_trip(folder, rec):
    option = Option("services/employer/candidates", StringList(), (), "IDURLs to hire first")
    cfg = Config(folder, (option,), log=rec.log())
    cfg.load()
    result = cfg.set("services/employer/candidates", "http://a/x.xml, http://b/y.xml")
    assert result["value"] == ["http://a/x.xml", "http://b/y.xml"]
    assert result["old_value"] == []
    again = Config(folder, (option,), log=rec.log())
    again.load()
    assert again.get("services/employer/candidates") == ("http://a/x.xml", "http://b/y.xml")


def test_instances_share_nothing(tmp_path, rec):
    first = Config(tmp_path / "a", log=rec.log())
    second = Config(tmp_path / "b", log=rec.log())
    first.load()
    second.load()
    first.set("logs/debug-level", 9)
    first.register(Option("services/x/enabled", Bool(), True, "x"))
    assert second.get("logs/debug-level") == 0
    assert "services/x/enabled" not in second


def test_set_async_writes_off_thread_then_commits_in_order(tmp_path):
    from twisted.internet import defer

    config = Config(tmp_path / "config")
    config.load()
    seen = []
    config.watch("logs/debug-level", lambda key, new, old: seen.append((old, new)))
    pending = []

    def run_blocking(fn, *args):  # a fake worker thread that finishes when the test says so
        d = defer.Deferred()
        pending.append((d, fn, args))
        return d

    with pytest.raises(InvalidInput):
        config.set_async("logs/debug-level", "abc", run_blocking)
    assert pending == []
    first = config.set_async("logs/debug-level", 3, run_blocking)
    second = config.set_async("logs/debug-level", 4, run_blocking)
    assert len(pending) == 1 and config.get("logs/debug-level") == 0  # nothing committed before the write
    d, fn, args = pending.pop()
    fn(*args)
    d.callback(None)
    assert config.get("logs/debug-level") == 3
    d, fn, args = pending.pop()
    fn(*args)
    d.callback(None)
    assert config.get("logs/debug-level") == 4
    assert seen == [(0, 3), (3, 4)]
    results = []
    first.addCallback(results.append)
    second.addCallback(results.append)
    assert [r["old_value"] for r in results] == [0, 3]
    assert (tmp_path / "config" / "logs" / "debug-level").read_text().strip() == "4"


def test_set_async_write_failure_changes_nothing(tmp_path):
    from twisted.internet import defer

    config = Config(tmp_path / "config")
    config.load()

    def failing(fn, *args):
        return defer.fail(OSError("disk full"))

    d = config.set_async("logs/debug-level", 5, failing)
    failures = []
    d.addErrback(failures.append)
    assert failures and failures[0].check(OSError)
    assert config.get("logs/debug-level") == 0
