"""Identities end to end: real engines, real identity servers, all started by the sandbox."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from bitdust.userid.identity import Identity
from tests.e2e.helpers import api, ok, poll_until

pytestmark = pytest.mark.e2e


def http_call(port: int, verb: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(verb, path, body=body, headers={"Content-Type": "text/xml"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Two identity servers and two nodes without identities."""
    box = Sandbox(tmp_path_factory.mktemp("identity-sandbox"))
    try:
        box.up(2, id_servers=2, bare=True)
        yield box
    finally:
        if (box.directory / "sandbox.json").exists():
            box.down()


def by_name(box: Sandbox) -> dict[str, NodeRecord]:
    return {record.name: record for record in box.load().nodes}


def test_sandbox_records_identity_servers(bare: Sandbox) -> None:
    nodes = by_name(bare)
    assert nodes["id-a"].role == "id-server" and nodes["id-b"].role == "id-server"
    assert isinstance(nodes["id-a"].extra["id_port"], int)
    assert nodes["node-1"].extra.get("global_id") is None  # --bare


def test_identity_life_cycle(bare: Sandbox, tmp_path: Path) -> None:
    nodes = by_name(bare)
    alice, bob = nodes["node-1"], nodes["node-2"]
    ports = [nodes["id-a"].extra["id_port"], nodes["id-b"].extra["id_port"]]

    # Create alice: her signed identity is served by both identity servers.
    created = ok(alice, "POST", "identity/create/v1", username="alice")
    assert created["name"] == "alice" and created["revision"] == "0"
    served = []
    for port in ports:
        status, body = http_call(port, "GET", "/alice.xml")
        assert status == 200
        document = Identity.from_xml(body)
        assert document.verify() and document.public_key == created["publickey"]
        served.append(document)
    assert ok(alice, "GET", "identity/get/v1")["global_id"] == created["global_id"]

    # Another key cannot take the name; a tampered copy is refused; the good one stays.
    status, envelope = api(bob, "POST", "identity/create/v1", username="alice", _timeout=120)
    assert status == 409, envelope
    assert "taken" in envelope["errors"][0] or "409" in envelope["errors"][0]
    assert api(bob, "GET", "identity/get/v1")[0] == 409  # nothing half-made on bob
    tampered = served[0].to_xml().replace("<revision>0</revision>", "<revision>7</revision>")
    status, _ = http_call(ports[0], "POST", "/alice.xml", tampered.encode())
    assert status == 400
    status, body = http_call(ports[0], "GET", "/alice.xml")
    assert status == 200 and Identity.from_xml(body).same_content(served[0])

    # Keys: the master key first, private parts only when asked.
    keys = ok(alice, "GET", "key/list/v1")
    assert keys[0]["alias"] == "master" and keys[0]["private"] is None
    assert ok(alice, "GET", "key/list/v1", include_private=True)[0]["private"].startswith("-----BEGIN RSA PRIVATE KEY")

    # Backup, erase everything, recover on a node that never had this identity.
    backup = tmp_path / "alice.key"
    ok(alice, "POST", "identity/backup/v1", destination_filepath=str(backup))
    assert backup.stat().st_mode & 0o777 == 0o600
    ok(alice, "DELETE", "identity/erase/v1", erase_private_key=True)
    assert api(alice, "GET", "identity/get/v1")[0] == 409
    assert all(k["alias"] != "master" for k in ok(alice, "GET", "key/list/v1"))
    recovered = ok(bob, "POST", "identity/recover/v1", private_key_source=backup.read_text())
    assert recovered["global_id"] == created["global_id"]
    assert recovered["publickey"] == created["publickey"]
    assert ok(bob, "GET", "key/list/v1")[0]["key_id"] == f"master${created['global_id']}"

    # Rotate while the primary identity server is down: the identity moves to the healthy one.
    bare.stop_node("id-a")
    try:
        rotated = ok(bob, "PUT", "identity/rotate/v1")
        assert rotated["rotated"] is True
        assert int(rotated["revision"]) == 1
        assert rotated["sources"] == [f"http://127.0.0.1:{ports[1]}/alice.xml"]
        assert rotated["old_sources"] == created["sources"]
        status, body = http_call(ports[1], "GET", "/alice.xml")
        assert status == 200 and Identity.from_xml(body).revision == 1
        assert ok(bob, "GET", "key/list/v1")[0]["key_id"] == f"master${rotated['global_id']}"
    finally:
        bare.start_node("id-a")


def test_key_life_cycle_and_errors(bare: Sandbox) -> None:
    node = by_name(bare)["node-1"]
    if api(node, "GET", "identity/get/v1")[0] != 200:
        ok(node, "POST", "identity/create/v1", username="carol")
    me = ok(node, "GET", "identity/get/v1")["global_id"]
    created = ok(node, "POST", "key/create/v1", key_alias="cats", key_size=1024, label="Cats and Dogs")
    assert created["key_id"] == f"cats${me}" and created["label"] == "Cats and Dogs" and created["private"] is None
    assert ok(node, "GET", "key/get/v1", key_id=created["key_id"])["size"] == "1024"
    assert ok(node, "GET", "key/get/v1", key_id=created["key_id"], include_private=True)["private"]
    for params, code in (
        ({"key_alias": "Cats"}, 400),
        ({"key_alias": "cats"}, 400),
        ({"key_alias": "x" * 51}, 400),
        ({"key_alias": "dogs", "key_size": 3000}, 400),
        ({"key_alias": "dogs", "key_size": "big"}, 400),
        ({}, 400),
    ):
        status, envelope = api(node, "POST", "key/create/v1", **params)
        assert status == code and envelope["errors"], params
    assert api(node, "GET", "key/get/v1", key_id=f"nope${me}")[0] == 404
    assert api(node, "GET", "key/get/v1", key_id="not a key id")[0] == 400
    assert ok(node, "POST", "key/label/v1", key_id=created["key_id"], label="Men")["label"] == "Men"
    master = f"master${me}"
    assert api(node, "POST", "key/label/v1", key_id=master, label="x")[0] == 400
    assert api(node, "DELETE", "key/erase/v1", key_id=master)[0] == 400
    ok(node, "DELETE", "key/erase/v1", key_id=created["key_id"])
    assert api(node, "GET", "key/get/v1", key_id=created["key_id"])[0] == 404
    assert api(node, "DELETE", "key/erase/v1", key_id=created["key_id"])[0] == 404
    assert [k["alias"] for k in ok(node, "GET", "key/list/v1")] == ["master"]


def test_usernames_are_checked(bare: Sandbox) -> None:
    node = by_name(bare)["node-2"]
    for name in ("ab", "Alice", "a" * 21, "al ice", "alice!"):
        status, envelope = api(node, "POST", "identity/create/v1", username=name)
        assert status == 400 and "user name" in envelope["errors"][0], (name, envelope)


def test_identity_moves_by_itself_when_its_server_dies(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "auto-rotate")
    try:
        box.up(1, id_servers=2)
        nodes = by_name(box)
        node = nodes["node-1"]
        # Joining the network publishes our TCP contact (a revision of its own) first.
        ok(node, "GET", "network/connected/v1", wait_timeout=20)
        before = ok(node, "GET", "identity/get/v1")
        assert before["global_id"] == node.extra["global_id"]
        ok(node, "POST", "config/set/v1", key="services/identity-propagate/health-check-interval-seconds", value=1)
        ok(node, "POST", "service/restart/service_identity_propagate/v1")
        box.stop_node("id-a")
        survivor = f"http://127.0.0.1:{nodes['id-b'].extra['id_port']}/node-1.xml"

        def moved() -> dict | None:
            current = ok(node, "GET", "identity/get/v1")
            return current if current["sources"] == [survivor] else None

        after = poll_until(moved, 60, what="automatic rotation away from id-a")
        assert int(after["revision"]) == int(before["revision"]) + 1
        assert after["publickey"] == before["publickey"]
    finally:
        if (box.directory / "sandbox.json").exists():
            box.down()
