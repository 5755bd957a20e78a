"""Hostile values against real engine processes: NaN in the DHT and events, odd backup paths."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from tests.e2e.helpers import api, ok, poll_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, NodeRecord]]:
    """Two identity servers, one DHT seed, two nodes with identities, joined to the DHT."""
    box = Sandbox(tmp_path_factory.mktemp("robustness-sandbox"))
    try:
        box.up(2, id_servers=2, dht_seeds=1)
        found = {record.name: record for record in box.load().nodes}
        for name in ("node-1", "node-2"):
            poll_until(lambda name=name: _joined(found[name]), deadline=60, what=f"{name} to join the DHT")
        yield found
    finally:
        if (box.directory / "sandbox.json").exists():
            box.down()


def _joined(node: NodeRecord) -> bool:
    status, envelope = api(node, "GET", "network/status/v1", dht=1)
    if status != 200 or not envelope["result"]["dht"].get("active"):
        return False
    return envelope["result"]["dht"]["bootstrap"]["state"] == "joined"


def test_nan_never_enters_the_dht_and_reads_stay_answers(nodes: dict[str, NodeRecord]) -> None:
    writer, reader = nodes["node-1"], nodes["node-2"]
    for bad in (float("nan"), {"x": float("inf")}, [float("-inf")]):
        status, envelope = api(writer, "POST", "dht/value/set/v1", key="robust-nan", value=bad)
        assert status == 400, envelope
        assert envelope["status"] == "ERROR" and envelope["errors"]
    for node in nodes.values():
        if node.role == "id-server":
            continue
        status, envelope = api(node, "GET", "dht/db/dump/v1")
        if status == 503:  # a node without the DHT service
            continue
        assert status == 200 and all(row["key"] != "robust-nan" for row in envelope["result"]), envelope
    status, envelope = api(reader, "GET", "dht/value/get/v1", key="robust-nan")
    assert status == 200 and envelope["result"]["read"] == "failed", envelope
    # Text that merely looks like NaN JSON is a string value: stored as text and read back as text.
    ok(writer, "POST", "dht/value/set/v1", key="robust-text", value='{"x": NaN}')
    read = ok(reader, "GET", "dht/value/get/v1", key="robust-text")
    assert read["value"] == {"type": "skip_validation", "data": '{"x": NaN}'}


def test_a_nan_event_is_refused_and_the_good_ones_arrive(nodes: dict[str, NodeRecord]) -> None:
    node = nodes["node-1"]
    consumers = ok(node, "GET", "process/info/v1")["event"]["consumers"]
    # The consumer's first call waits for the next event: make it in a thread, answer it with one.
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(api, node, "GET", "event/listen/robust-consumer/v1", _timeout=90)
        poll_until(
            lambda: ok(node, "GET", "process/info/v1")["event"]["consumers"] > consumers,
            what="the event consumer to exist",
        )
        ok(node, "POST", "event/send/robust-warmup/v1", data=0)
        assert first.result(timeout=60)[0] == 200
    ok(node, "POST", "event/send/robust-good-1/v1", data={"n": 1})
    status, envelope = api(node, "POST", "event/send/robust-bad/v1", data={"n": float("nan")})
    assert status == 400, envelope
    ok(node, "POST", "event/send/robust-good-2/v1", data={"n": 2})
    status, envelope = api(node, "GET", "event/listen/robust-consumer/v1", _timeout=90)
    assert status == 200, envelope
    ids = [event["id"] for event in envelope["result"] if event["id"].startswith("robust-")]
    assert ids == ["robust-good-1", "robust-good-2"]


def test_identity_backup_creates_a_new_file_or_refuses(nodes: dict[str, NodeRecord], tmp_path: Path) -> None:
    node = nodes["node-1"]
    target = tmp_path / "node-1.key"
    result = ok(node, "POST", "identity/backup/v1", destination_filepath=str(target))
    assert result["destination_filepath"] == str(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_bytes()
    (tmp_path / "victim").write_text("somebody's file")
    (tmp_path / "link").symlink_to(tmp_path / "victim")
    for destination in (
        str(target),  # exists: never overwritten
        str(tmp_path / "link"),
        str(tmp_path) + "/",
        str(tmp_path / "new") + "/",
        str(tmp_path / "missing" / "x.key"),
        str(tmp_path / "nul\x00.key"),
        str(tmp_path / ("y" * 300)),
    ):
        status, envelope = api(node, "POST", "identity/backup/v1", destination_filepath=destination)
        assert status == 400 and envelope["errors"], (destination, status, envelope)
    assert target.read_bytes() == first
    assert (tmp_path / "victim").read_text() == "somebody's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "node-1.key", "victim"]
