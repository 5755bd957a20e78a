"""API methods of the catalog (service_backup_db): create, inspect, list and delete remote paths.

Answers use the original's field names so existing clients keep working. ``uploads`` and
``downloads`` are always present but stay empty (``{"running": [], "pending": []}`` and ``[]``)
until the upload and download pipelines are wired in; then they fill in without a shape change.

Items carry ``local_path`` (the local file or folder the catalog remembers the item was created
or last uploaded from, null when unknown) and ``local_size`` (that file's size now, null when it is
unknown, gone or not a regular file); ``files_list`` puts the catalog ``revision`` in the envelope
beside ``result``, as the original's ``extra_fields`` did.

Parsing and key checks run on the reactor thread (pure and quick) so bad input answers 400
before any disk work; every catalog call (and every look at a local file) runs in the thread pool
through ``engine.run_blocking``.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.crypt.key_id import check_key_id, split_key_id
from bitdust.interface.api.constraints import text
from bitdust.interface.api.spec import ApiResult, api_method
from bitdust.main.errors import InvalidInput, Unavailable
from bitdust.storage.remote_path import RemotePath, parse_remote_path

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine
    from bitdust.storage.catalog import Catalog

_REMOTE_PATH = "key_id:path/to/item, e.g. master$alice@host:docs/a.txt; without key_id: the master key"
_INCLUDE = "report running and pending transfers (empty until the upload pipeline is wired in)"


def _catalog(engine: NodeEngine) -> Catalog:
    """The catalog, once service_backup_db runs; 503 otherwise."""
    catalog = engine.catalog
    if not engine.services.is_on("service_backup_db") or catalog is None:
        raise Unavailable("service_backup_db is not running; start it with service_start")
    return catalog


def _known_key(engine: NodeEngine, key_id: str) -> str:
    """A key id the node holds; remote paths of other keys cannot be encrypted or read here."""
    check_key_id(key_id)
    if engine.keys.find(key_id) is None:
        raise InvalidInput(f"unknown key {key_id}")
    return key_id


def _master_key_id(engine: NodeEngine) -> str | None:
    return getattr(engine.keys, "master_key_id", None)


def _parse(
    engine: NodeEngine, remote_path: str, *, default_key_id: str | None = None, allow_root: bool = False
) -> RemotePath:
    rp = parse_remote_path(remote_path, default_key_id or _master_key_id(engine), allow_root=allow_root)
    _known_key(engine, rp.key_id)
    return rp


def _time_label(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %I:%M:%S %p", time.localtime(stamp))


def _version_json(global_id: str, version: dict[str, Any]) -> dict[str, Any]:
    return {
        "backup_id": f"{global_id}/{version['name']}",
        "version": version["name"],
        "label": _time_label(version["created"]),
        "time": version["created"],
        "size": version["size"],
        "blocks": version["blocks"],
        "ecc_map": version["ecc_map"],
        "block_size": version["block_size"],
        "state": version["state"],
    }


def local_size(local_path: str | None) -> int | None:
    """Blocking: the size of the regular file at ``local_path`` now; None when unknown, gone or not a file."""
    if not local_path:
        return None
    try:
        stat = os.stat(local_path)
    except (OSError, ValueError):
        return None
    return stat.st_size if os.path.isfile(local_path) else None


def _with_local_sizes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocking: each item with its ``local_size`` filled in (run in the thread pool)."""
    return [{**item, "local_size": local_size(item.get("local_path"))} for item in items]


def item_json(engine: NodeEngine, item: dict[str, Any]) -> dict[str, Any]:
    """One catalog item in the original's shape (``files_list`` item, ``file_info`` result).

    ``local_size`` is read from ``item`` (put there by :func:`_with_local_sizes` in the thread
    pool), never from the disk here: this runs on the reactor thread.
    """
    key_id = item["key_id"]
    alias, customer = split_key_id(key_id)
    record = engine.keys.find(key_id)
    idurl = getattr(record, "creator", None)
    if idurl is None and customer == getattr(engine.keys, "global_id", None):
        idurl = getattr(engine.keys, "creator_idurl", None)
    global_id = f"{key_id}:{item['path_id']}"
    versions = [_version_json(global_id, v) for v in item.get("versions", [])]
    ready = [v["version"] for v in versions if v["state"] == "ready"]
    return {
        "remote_path": f"{key_id}:{item['path']}",
        "global_id": global_id,
        "customer": customer,
        "idurl": idurl,
        "path_id": item["path_id"],
        "name": item["name"],
        "path": item["path"],
        "type": item["type"],
        "size": item["size"],
        "latest": ready[-1] if ready else "",
        "key_id": key_id,
        "key_alias": alias,
        "childs": bool(item.get("childs", False)),
        "created": item["created"],
        "modified": item["modified"],
        "versions": versions,
        "uploads": {"running": [], "pending": []},
        "downloads": [],
        "local_path": item.get("local_path"),
        "local_size": item.get("local_size"),
    }


@api_method(
    "POST",
    "file/create/v1",
    params={
        "remote_path": _REMOTE_PATH,
        "as_folder": "create a folder instead of a file",
        "exist_ok": "answer the existing item instead of an error when the path exists with this type",
        "force_path_id": "use this path id (numbers separated by '/', unused under the key) instead of a new one",
    },
    constraints={"remote_path": text(), "force_path_id": text()},
    answers=(503,),
    links={name: {"remote_path": "remote_path"} for name in ("file_exists", "file_info", "file_delete")},
)
def file_create(
    engine: NodeEngine,
    remote_path: str,
    as_folder: bool = False,
    exist_ok: bool = False,
    force_path_id: str | None = None,
) -> defer.Deferred[ApiResult]:
    """Create a file or folder in the catalog (missing parent folders too); no data is uploaded.

    This only reserves the item and its path id; an upload later adds versions to it. An
    existing path without exist_ok, a file under a file or a used path id answer 400.
    """
    catalog = _catalog(engine)
    rp = _parse(engine, remote_path)

    def created(item: dict[str, Any]) -> ApiResult:
        kind = "folder" if item["type"] == "dir" else "file"
        return ApiResult(item_json(engine, item), message=f"{kind} {rp} is in the catalog")

    d = engine.run_blocking(catalog.create, rp, as_folder=as_folder, exist_ok=exist_ok, force_path_id=force_path_id)
    return d.addCallback(created)


@api_method(
    "GET", "file/exists/v1", params={"remote_path": _REMOTE_PATH}, constraints={"remote_path": text()}, answers=(503,)
)
def file_exists(engine: NodeEngine, remote_path: str) -> defer.Deferred[dict[str, Any]]:
    """Whether a file or folder with this remote path is in the catalog."""
    catalog = _catalog(engine)
    rp = _parse(engine, remote_path)

    def answer(exists: bool) -> dict[str, Any]:
        return {"exist": exists, "remote_path": str(rp), "key_id": rp.key_id}

    return engine.run_blocking(catalog.exists, rp).addCallback(answer)


@api_method(
    "GET",
    "file/info/v1",
    params={"remote_path": _REMOTE_PATH, "include_uploads": _INCLUDE, "include_downloads": _INCLUDE},
    constraints={"remote_path": text()},
    answers=(404, 503),
)
def file_info(
    engine: NodeEngine, remote_path: str, include_uploads: bool = True, include_downloads: bool = True
) -> defer.Deferred[dict[str, Any]]:
    """Details of one file or folder: path id, size, versions, transfers; 404 if unknown.

    ``uploads``/``downloads`` are empty until the upload pipeline is wired in.
    """
    catalog = _catalog(engine)
    rp = _parse(engine, remote_path)

    def details(item_and_revision: tuple[dict[str, Any], int]) -> dict[str, Any]:
        item, revision = item_and_revision
        result = item_json(engine, item)
        result["revision"] = revision
        return result

    def work() -> tuple[dict[str, Any], int]:
        [item] = _with_local_sizes([catalog.info(rp)])
        return item, catalog.revision()

    return engine.run_blocking(work).addCallback(details)


@api_method(
    "GET",
    "file/list/v1",
    params={
        "remote_path": "list under this folder (" + _REMOTE_PATH + ")",
        "key_id": "list this key's items (default: the master key)",
        "recursive": "include sub-folders' contents",
        "all_customers": "list the items of every key in the catalog",
        "include_uploads": _INCLUDE,
        "include_downloads": _INCLUDE,
    },
    constraints={"key_id": text()},
    answers=(404, 503),
)
def files_list(
    engine: NodeEngine,
    remote_path: str | None = None,
    key_id: str | None = None,
    recursive: bool = True,
    all_customers: bool = False,
    include_uploads: bool = False,
    include_downloads: bool = False,
) -> defer.Deferred[ApiResult]:
    """Items of the catalog: under remote_path, or of key_id (default the master key), or all.

    A remote_path without its own key id belongs to key_id. The envelope carries the catalog's
    ``revision`` beside ``result`` (it grows with every change: a client can tell a stale copy).
    Items have ``local_path``/``local_size`` where known; ``uploads``/``downloads`` of each item
    are empty until the upload pipeline is wired in.
    """
    catalog = _catalog(engine)
    if key_id is not None:
        _known_key(engine, key_id)
    if remote_path is not None:
        rp: RemotePath | None = _parse(engine, remote_path, default_key_id=key_id, allow_root=True)
        query: Callable[[], list[dict[str, Any]]] = functools.partial(catalog.list, rp, None, recursive)
    elif all_customers:
        query = functools.partial(catalog.list, None, None, recursive)
    else:
        key = _known_key(engine, key_id or _master_key_or_400(engine))
        query = functools.partial(catalog.list, None, key, recursive)

    def work() -> tuple[list[dict[str, Any]], int]:
        # One transaction would be tighter, but a revision read right after the listing can only be
        # newer than the listing, never older: a client comparing revisions refetches, never misses.
        return _with_local_sizes(query()), catalog.revision()

    def listed(items_and_revision: tuple[list[dict[str, Any]], int]) -> ApiResult:
        items, revision = items_and_revision
        return ApiResult([item_json(engine, item) for item in items], extra={"revision": revision})

    return engine.run_blocking(work).addCallback(listed)


def _master_key_or_400(engine: NodeEngine) -> str:
    key = _master_key_id(engine)
    if key is None:
        raise InvalidInput("this node has no master key yet: pass key_id")
    return key


@api_method(
    "DELETE",
    "file/delete/v1",
    params={"remote_path": _REMOTE_PATH},
    constraints={"remote_path": text()},
    answers=(404, 503),
)
def file_delete(engine: NodeEngine, remote_path: str) -> defer.Deferred[ApiResult]:
    """Remove a file or a folder with everything under it from the catalog; 404 if unknown.

    Asking suppliers to drop the uploaded fragments joins once the upload pipeline exists.
    """
    catalog = _catalog(engine)
    rp = _parse(engine, remote_path)

    def deleted(item: dict[str, Any]) -> ApiResult:
        removed = item["removed_items"]
        return ApiResult(item_json(engine, item), message=f"{rp} deleted ({removed} catalog items)")

    return engine.run_blocking(catalog.delete, rp).addCallback(deleted)
