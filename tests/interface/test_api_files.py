"""The file_* API methods, called directly with a fake engine over a real catalog."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer

from bitdust.interface.api import files
from bitdust.interface.api.spec import ApiResult, specs_of
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput, NotFound, Unavailable
from bitdust.services.service_backup_db import BackupDbService
from bitdust.storage.catalog import Catalog
from bitdust.storage.remote_path import RemotePath

MASTER = "master$alice@host"
SHARE = "share_1$alice@host"
IDURL = "http://host/alice.xml"


class FakeKeys:
    global_id = "alice@host"
    creator_idurl = IDURL
    master_key_id = MASTER

    def __init__(self) -> None:
        self.records = {
            MASTER: types.SimpleNamespace(key_id=MASTER, creator=IDURL),
            SHARE: types.SimpleNamespace(key_id=SHARE, creator=None),
        }

    def find(self, key_id: str) -> Any:
        return self.records.get(key_id)


class FakeServices:
    def __init__(self) -> None:
        self.on = {"service_keys_registry", "service_backup_db"}

    def is_on(self, name: str) -> bool:
        return name in self.on


def run_blocking(fn: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args, **kwargs)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Any]:
    catalog = Catalog.open(tmp_path / "catalog")
    yield types.SimpleNamespace(catalog=catalog, keys=FakeKeys(), services=FakeServices(), run_blocking=run_blocking)
    catalog.close()


def call(fn: Any, engine: Any, **kwargs: Any) -> Any:
    """Run an API method whose Deferred fires synchronously; raise its failure."""
    results: list[Any] = []
    d = defer.maybeDeferred(fn, engine, **kwargs)
    d.addBoth(results.append)
    assert results, "the method did not answer synchronously"
    outcome = results[0]
    if hasattr(outcome, "raiseException"):
        outcome.raiseException()
    return outcome.result if isinstance(outcome, ApiResult) else outcome


def test_routes_match_the_seed() -> None:
    routes = {s.name: (s.verb, s.path, [p.name for p in s.params]) for s in specs_of(files)}
    assert routes == {
        "file_create": ("POST", "file/create/v1", ["remote_path", "as_folder", "exist_ok", "force_path_id"]),
        "file_exists": ("GET", "file/exists/v1", ["remote_path"]),
        "file_info": ("GET", "file/info/v1", ["remote_path", "include_uploads", "include_downloads"]),
        "files_list": (
            "GET",
            "file/list/v1",
            ["remote_path", "key_id", "recursive", "all_customers", "include_uploads", "include_downloads"],
        ),
        "file_delete": ("DELETE", "file/delete/v1", ["remote_path"]),
    }


def test_create_answers_the_original_fields(engine: Any) -> None:
    answer = defer.maybeDeferred(files.file_create, engine, remote_path="docs/a.txt")
    result: list[Any] = []
    answer.addCallback(result.append)
    assert isinstance(result[0], ApiResult) and "is in the catalog" in (result[0].message or "")
    item = result[0].result
    assert item["remote_path"] == f"{MASTER}:docs/a.txt"
    assert item["global_id"] == f"{MASTER}:0/0"
    assert item["customer"] == "alice@host" and item["idurl"] == IDURL
    assert (item["path_id"], item["name"], item["path"], item["type"]) == ("0/0", "a.txt", "docs/a.txt", "file")
    assert (item["key_id"], item["key_alias"], item["size"]) == (MASTER, "master", 0)
    assert item["versions"] == [] and item["uploads"] == {"running": [], "pending": []} and item["downloads"] == []


def test_create_folder_exist_ok_and_force_path_id(engine: Any) -> None:
    folder = call(files.file_create, engine, remote_path=f"{SHARE}:pics/", as_folder=True, force_path_id="4")
    assert folder["type"] == "dir" and folder["path_id"] == "4" and folder["key_alias"] == "share_1"
    assert folder["idurl"] == IDURL  # the share's owner is this node
    again = call(files.file_create, engine, remote_path=f"{SHARE}:pics", as_folder=True, exist_ok=True)
    assert again["path_id"] == "4"
    with pytest.raises(InvalidInput, match="already exists"):
        call(files.file_create, engine, remote_path=f"{SHARE}:pics", as_folder=True)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"remote_path": "a/../b"}, "'..'"),
        ({"remote_path": ""}, "empty"),
        ({"remote_path": "a\x00"}, "control"),
        ({"remote_path": "other$bob@host:a"}, "unknown key"),
        ({"remote_path": "Bad$Key:a"}, "invalid key"),
        ({"remote_path": "x", "force_path_id": "abc"}, "invalid path id"),
    ],
)
def test_create_bad_input_changes_nothing(engine: Any, kwargs: dict[str, Any], reason: str) -> None:
    before = engine.catalog.revision()
    with pytest.raises(InvalidInput, match=reason):
        call(files.file_create, engine, **kwargs)
    assert engine.catalog.revision() == before
    assert engine.catalog.list() == []


def test_file_under_file_is_400(engine: Any) -> None:
    call(files.file_create, engine, remote_path="a.txt")
    with pytest.raises(InvalidInput, match="is a file"):
        call(files.file_create, engine, remote_path="a.txt/b")


def test_exists(engine: Any) -> None:
    assert call(files.file_exists, engine, remote_path="a")["exist"] is False
    call(files.file_create, engine, remote_path="a")
    answer = call(files.file_exists, engine, remote_path=f"{MASTER}:a")
    assert answer == {"exist": True, "remote_path": f"{MASTER}:a", "key_id": MASTER}


def test_info_with_versions(engine: Any) -> None:
    call(files.file_create, engine, remote_path="a/b.txt")
    rp = RemotePath(MASTER, "a/b.txt")
    engine.catalog.add_version(rp, ecc_map="ecc/2x2", block_size=64, name="F20261128033000AM")
    engine.catalog.set_version_state(rp, "F20261128033000AM", "ready", size=10, blocks=1)
    info = call(files.file_info, engine, remote_path="a/b.txt")
    assert info["size"] == 10 and info["latest"] == "F20261128033000AM"
    assert info["revision"] == engine.catalog.revision()
    (version,) = info["versions"]
    assert version["backup_id"] == f"{MASTER}:0/0/F20261128033000AM"
    assert version["state"] == "ready" and version["ecc_map"] == "ecc/2x2" and version["size"] == 10
    assert call(files.file_info, engine, remote_path="a")["childs"] is True
    with pytest.raises(NotFound):
        call(files.file_info, engine, remote_path="nope")


def test_list(engine: Any) -> None:
    for path in ("a/b/c.txt", "a/d.txt", "z.txt", f"{SHARE}:s/t.txt"):
        call(files.file_create, engine, remote_path=path)
    listed = call(files.files_list, engine)
    assert [i["path"] for i in listed] == ["a", "a/b", "a/b/c.txt", "a/d.txt", "z.txt"]
    top = call(files.files_list, engine, recursive=False)
    assert [i["path"] for i in top] == ["a", "z.txt"]
    under = call(files.files_list, engine, remote_path="a", recursive=False)
    assert [i["remote_path"] for i in under] == [f"{MASTER}:a/b", f"{MASTER}:a/d.txt"]
    share = call(files.files_list, engine, key_id=SHARE)
    assert [i["path"] for i in share] == ["s", "s/t.txt"]
    assert [i["path"] for i in call(files.files_list, engine, remote_path="s", key_id=SHARE)] == ["s/t.txt"]
    assert [i["path"] for i in call(files.files_list, engine, remote_path=f"{SHARE}:")] == ["s", "s/t.txt"]
    assert len(call(files.files_list, engine, all_customers=True)) == 7
    with pytest.raises(InvalidInput, match="unknown key"):
        call(files.files_list, engine, key_id="nobody$bob@host")
    with pytest.raises(NotFound):
        call(files.files_list, engine, remote_path="missing")


def _answer(fn: Any, engine: Any, **kwargs: Any) -> ApiResult:
    results: list[Any] = []
    defer.maybeDeferred(fn, engine, **kwargs).addBoth(results.append)
    assert results and isinstance(results[0], ApiResult)
    return results[0]


def test_list_carries_the_catalog_revision_in_the_envelope(engine: Any) -> None:
    answer = _answer(files.files_list, engine)
    assert answer.result == [] and answer.extra == {"revision": engine.catalog.revision()}
    call(files.file_create, engine, remote_path="a.txt")
    after = _answer(files.files_list, engine)
    assert after.extra == {"revision": engine.catalog.revision()} and after.extra["revision"] > answer.extra["revision"]
    code, envelope = _through_registry(engine, "files_list", {})
    assert code == 200 and envelope["revision"] == engine.catalog.revision()
    assert [i["path"] for i in envelope["result"]] == ["a.txt"]


def _through_registry(engine: Any, name: str, kwargs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from bitdust.interface.api.registry import ApiRegistry

    results: list[Any] = []
    ApiRegistry(engine, specs_of(files)).call(name, kwargs).addBoth(results.append)
    return results[0]


def test_items_carry_local_path_and_local_size_where_known(engine: Any, tmp_path: Path) -> None:
    local = tmp_path / "c.txt"
    local.write_bytes(b"12345")
    call(files.file_create, engine, remote_path="a/b.txt")
    engine.catalog.create(RemotePath(MASTER, "c.txt"), local_path=str(local))
    engine.catalog.create(RemotePath(MASTER, "gone.txt"), local_path=str(tmp_path / "gone.txt"))
    engine.catalog.set_local_path(RemotePath(MASTER, "a"), str(tmp_path))
    listed = {i["path"]: (i["local_path"], i["local_size"]) for i in call(files.files_list, engine)}
    assert listed == {
        "a": (str(tmp_path), None),  # a folder: no single size
        "a/b.txt": (None, None),
        "c.txt": (str(local), 5),
        "gone.txt": (str(tmp_path / "gone.txt"), None),
    }
    info = call(files.file_info, engine, remote_path="c.txt")
    assert (info["local_path"], info["local_size"]) == (str(local), 5)


def test_delete_folder(engine: Any) -> None:
    for path in ("a/b/c.txt", "a/d.txt", "z.txt"):
        call(files.file_create, engine, remote_path=path)
    results: list[Any] = []
    defer.maybeDeferred(files.file_delete, engine, remote_path="a").addCallback(results.append)
    assert results[0].result["path"] == "a" and "4 catalog items" in results[0].message
    assert [i["path"] for i in call(files.files_list, engine)] == ["z.txt"]
    with pytest.raises(NotFound):
        call(files.file_delete, engine, remote_path="a")
    with pytest.raises(InvalidInput):
        call(files.file_delete, engine, remote_path="a/..")


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        (files.file_create, {"remote_path": "a"}),
        (files.file_exists, {"remote_path": "a"}),
        (files.file_info, {"remote_path": "a"}),
        (files.files_list, {}),
        (files.file_delete, {"remote_path": "a"}),
    ],
)
def test_503_when_service_is_off(engine: Any, method: Any, kwargs: dict[str, Any]) -> None:
    engine.services.on.discard("service_backup_db")
    with pytest.raises(Unavailable) as info:
        call(method, engine, **kwargs)
    assert status_of(info.value) == 503


def test_errors_map_to_http_codes() -> None:
    assert (status_of(InvalidInput("x")), status_of(NotFound("x"))) == (400, 404)


@pytest_twisted.inlineCallbacks
def test_service_opens_and_closes_the_catalog(tmp_path: Path) -> Any:
    engine = types.SimpleNamespace(
        paths=types.SimpleNamespace(sub=lambda name: tmp_path / name), run_blocking=run_blocking
    )
    service = BackupDbService(engine)
    assert service.name == "service_backup_db" and service.depends_on == ("service_keys_registry",)
    assert service.enabled_key() == "services/backup-db/enabled"
    yield service.start()
    assert isinstance(engine.catalog, Catalog)
    assert (tmp_path / "catalog" / "catalog.db").exists()
    catalog = engine.catalog
    yield service.stop()
    assert engine.catalog is None
    with pytest.raises(RuntimeError):
        catalog.exists(RemotePath(MASTER, "a"))
    assert service.stop() is None
