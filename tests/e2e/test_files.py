"""The catalog API on a real engine whose identity lives on real identity servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from tests.e2e.helpers import api, ok

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRecord]:
    box = Sandbox(tmp_path_factory.mktemp("files-sandbox"))
    try:
        box.up(1, id_servers=2)
        yield next(n for n in box.load().nodes if n.role == "node")
    finally:
        if (box.directory / "sandbox.json").exists():
            box.down()


def test_catalog_life_cycle(node: NodeRecord) -> None:
    me = node.extra["global_id"]
    created = ok(node, "POST", "file/create/v1", remote_path="docs/reports/a.txt")
    assert created["remote_path"] == f"master${me}:docs/reports/a.txt" and created["type"] == "file"
    assert ok(node, "GET", "file/exists/v1", remote_path="docs/reports/a.txt")["exist"] is True
    ok(node, "POST", "file/create/v1", remote_path="docs/pictures", as_folder=True)
    listed = [item["path"] for item in ok(node, "GET", "file/list/v1")]
    assert set(listed) >= {"docs", "docs/reports", "docs/reports/a.txt", "docs/pictures"}
    info = ok(node, "GET", "file/info/v1", remote_path="docs/reports/a.txt")
    assert info["path_id"] == created["path_id"] and info["versions"] == []

    for bad in ("../etc/passwd", "docs//a", "a/./b", ""):
        status, envelope = api(node, "POST", "file/create/v1", remote_path=bad)
        assert status == 400 and envelope["errors"], bad
    assert api(node, "POST", "file/create/v1", remote_path="docs/reports/a.txt")[0] == 400
    assert api(node, "POST", "file/create/v1", remote_path="nokey$someone@host:x")[0] == 400
    assert api(node, "GET", "file/info/v1", remote_path="docs/none.txt")[0] == 404
    assert len(ok(node, "GET", "file/list/v1")) == len(listed)  # the bad calls changed nothing
    status, envelope = api(node, "GET", "file/list/v1")
    assert status == 200 and isinstance(envelope["revision"], int) and envelope["revision"] > 0
    assert all(item["local_path"] is None and item["local_size"] is None for item in envelope["result"])

    ok(node, "DELETE", "file/delete/v1", remote_path="docs")
    assert api(node, "GET", "file/list/v1")[1]["revision"] > envelope["revision"]
    assert ok(node, "GET", "file/exists/v1", remote_path="docs/reports/a.txt")["exist"] is False
    assert ok(node, "GET", "file/list/v1") == []
