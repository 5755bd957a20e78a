from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.crypt.rsa_key import RsaKey
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import Conflict, InvalidInput, NotFound
from tests.crypt.registry_helpers import IDURL, MASTER_ID, NOW, OWNER, files, make_registry, mode

# -- master key ---------------------------------------------------------------------------------


def test_install_master(registry: KeyRegistry, folder: Path, key_a: RsaKey) -> None:
    master = registry.get(MASTER_ID)
    assert master.alias == "master" and master.key == key_a and master.key.has_private
    assert master.label == "my master key" and master.creator == IDURL and master.active
    assert master.created == NOW
    assert master.is_identity_key
    assert registry.master() == master
    assert registry.master_key_id == MASTER_ID
    assert registry.global_id == OWNER and registry.creator_idurl == IDURL
    assert files(folder) == [f"{MASTER_ID}.key"]
    assert mode(folder / f"{MASTER_ID}.key") == 0o600
    assert mode(folder) == 0o700


def test_install_master_needs_a_private_key(folder: Path, key_a: RsaKey) -> None:
    reg = make_registry(folder)
    with pytest.raises(InvalidInput, match="private part"):
        reg.install_master(key_a.public_key(), OWNER, IDURL)
    with pytest.raises(InvalidInput, match="invalid global id"):
        reg.install_master(key_a, "no-at-sign", IDURL)
    assert len(reg) == 0 and not folder.exists()


def test_install_master_replaces_the_previous_one(registry: KeyRegistry, folder: Path, key_a: RsaKey) -> None:
    # Rotation: same key, new identity server, so a new global id.
    registry.install_master(key_a, "alice@other.net_8084", "http://other.net:8084/alice.xml", label="rotated")
    assert registry.master_key_id == "master$alice@other.net_8084"
    assert [r.key_id for r in registry.list()] == ["master$alice@other.net_8084"]
    assert files(folder) == ["master$alice@other.net_8084.key"]
    assert registry.get("master$alice@other.net_8084").label == "rotated"


def test_install_master_with_a_new_key(registry: KeyRegistry, key_b: RsaKey) -> None:
    registry.install_master(key_b, OWNER, IDURL)
    assert registry.get(MASTER_ID).key == key_b
    assert len(registry) == 1


def test_master_cannot_be_erased_or_relabelled(registry: KeyRegistry, folder: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot erase the master key"):
        registry.erase(MASTER_ID)
    with pytest.raises(InvalidInput, match="its label cannot be changed"):
        registry.label(MASTER_ID, "something else")
    assert registry.get(MASTER_ID).label == "my master key"
    assert files(folder) == [f"{MASTER_ID}.key"]


def test_erase_master(registry: KeyRegistry, folder: Path) -> None:
    registry.create("other", size=1024)
    assert registry.erase_master() is True
    assert registry.master() is None
    assert MASTER_ID not in registry
    assert files(folder) == [f"other${OWNER}.key"]
    assert registry.erase_master() is False


def test_master_key_id_without_owner(folder: Path, registry: KeyRegistry) -> None:
    fresh = make_registry(folder)
    assert fresh.master_key_id is None
    fresh.load()
    assert fresh.master_key_id == MASTER_ID  # found on disk before the identity layer speaks
    fresh.set_owner("alice@new.host", None)
    assert fresh.master_key_id == "master$alice@new.host"
    with pytest.raises(InvalidInput):
        fresh.set_owner("bad id", None)


# -- create -------------------------------------------------------------------------------------


def test_create(registry: KeyRegistry, folder: Path) -> None:
    record = registry.create("abcd1234", size=1024, label="Cats and Dogs")
    assert record.key_id == f"abcd1234${OWNER}"
    assert record.alias == "abcd1234" and record.label == "Cats and Dogs"
    assert record.creator == IDURL and record.active and record.created == NOW
    assert record.key.has_private and record.key.size == 1024
    assert registry.get(record.key_id) is record
    path = folder / f"{record.key_id}.key"
    assert mode(path) == 0o600
    document = json.loads(path.read_text())
    assert set(document) == {"key_id", "alias", "label", "creator", "active", "private", "public", "created"}
    assert document["private"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert document["public"] == record.key.public_openssh()
    assert document["created"] == NOW


def test_create_for_another_owner(registry: KeyRegistry) -> None:
    record = registry.create("share_1", size=1024, owner_global_id="bob@host.com")
    assert record.key_id == "share_1$bob@host.com"
    assert record.creator == IDURL


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alias": "Bad Alias", "size": 1024}, "invalid key alias"),
        ({"alias": "", "size": 1024}, "invalid key alias"),
        ({"alias": "master", "size": 1024}, "reserved"),
        ({"alias": "good", "size": 3000}, "key size 3000 is not allowed"),
        ({"alias": "good", "size": 1024, "label": "x" * 201}, "too long"),
        ({"alias": "good", "size": 1024, "label": "a\nb"}, "control characters"),
        ({"alias": "good", "size": 1024, "label": 5}, "must be a string"),
        ({"alias": "good", "size": 1024, "owner_global_id": "nobody"}, "invalid global id"),
    ],
)
def test_create_errors(registry: KeyRegistry, folder: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        registry.create(**kwargs)
    assert files(folder) == [f"{MASTER_ID}.key"]
    assert len(registry) == 1


def test_create_duplicate(registry: KeyRegistry) -> None:
    registry.create("dup", size=1024)
    with pytest.raises(InvalidInput, match="already exists"):
        registry.create("dup", size=1024)


def test_create_before_identity(folder: Path) -> None:
    with pytest.raises(InvalidInput, match="before this node has an identity"):
        make_registry(folder).create("early", size=1024)


def test_label_limits(registry: KeyRegistry) -> None:
    assert registry.create("a", size=1024, label="x" * 200).label == "x" * 200
    assert registry.create("b", size=1024, label="Кошки и собаки ✓").label == "Кошки и собаки ✓"
    with pytest.raises(InvalidInput):
        registry.create("c", size=1024, label="tab\there")
    with pytest.raises(InvalidInput):
        registry.create("c", size=1024, label="del\x7f")


# -- get / list ---------------------------------------------------------------------------------


def test_get_errors(registry: KeyRegistry) -> None:
    with pytest.raises(NotFound) as info:
        registry.get(f"nothing${OWNER}")
    assert status_of(info.value) == 404
    assert f"nothing${OWNER}" in info.value.message
    with pytest.raises(InvalidInput):
        registry.get("not a key id")
    assert registry.find(f"nothing${OWNER}") is None
    assert registry.find(MASTER_ID) is not None


def test_list_puts_master_first(registry: KeyRegistry, key_b: RsaKey) -> None:
    registry.create("zeta", size=1024)
    registry.register("master$bob@host.com", key_b.public_key())
    registry.create("alpha", size=1024)
    assert [r.alias for r in registry.list()] == ["master", "zeta", "master", "alpha"]
    assert [r.key_id for r in registry.list(sort=True)] == [
        MASTER_ID,
        f"alpha${OWNER}",
        "master$bob@host.com",
        f"zeta${OWNER}",
    ]


# -- label / erase ------------------------------------------------------------------------------


def test_label(registry: KeyRegistry, folder: Path) -> None:
    record = registry.create("k", size=1024, label="old")
    updated = registry.label(record.key_id, "Man and Woman")
    assert updated.label == "Man and Woman" and updated.key == record.key
    assert registry.get(record.key_id).label == "Man and Woman"
    assert json.loads((folder / f"{record.key_id}.key").read_text())["label"] == "Man and Woman"
    assert registry.label(record.key_id, "").label == ""


def test_label_errors(registry: KeyRegistry) -> None:
    record = registry.create("k", size=1024, label="old")
    with pytest.raises(NotFound):
        registry.label(f"unknown${OWNER}", "x")
    with pytest.raises(InvalidInput):
        registry.label(record.key_id, "x" * 201)
    with pytest.raises(InvalidInput):
        registry.label(record.key_id, "line\rbreak")
    with pytest.raises(InvalidInput):
        registry.label("bad", "x")
    assert registry.get(record.key_id).label == "old"


def test_erase(registry: KeyRegistry, folder: Path) -> None:
    record = registry.create("gone", size=1024)
    assert registry.erase(record.key_id) == record
    assert record.key_id not in registry
    assert files(folder) == [f"{MASTER_ID}.key"]
    with pytest.raises(NotFound):
        registry.erase(record.key_id)
    with pytest.raises(InvalidInput):
        registry.erase("../../etc/passwd")


# -- register -----------------------------------------------------------------------------------


def test_register_public_key(registry: KeyRegistry, key_b: RsaKey, folder: Path) -> None:
    record = registry.register("share_x$bob@host.com", key_b.public_key(), label="Bob's", creator="http://h/bob.xml")
    assert not record.key.has_private and record.creator == "http://h/bob.xml" and record.label == "Bob's"
    before = (folder / "share_x$bob@host.com.key").read_bytes()
    assert registry.register("share_x$bob@host.com", key_b.public_key(), label="ignored") is record
    assert (folder / "share_x$bob@host.com.key").read_bytes() == before
    document = json.loads(before)
    assert document["private"] is None


def test_register_conflict(registry: KeyRegistry, key_a: RsaKey, key_b: RsaKey) -> None:
    registry.register("share_x$bob@host.com", key_b.public_key())
    with pytest.raises(Conflict) as info:
        registry.register("share_x$bob@host.com", key_a.public_key())
    assert status_of(info.value) == 409
    with pytest.raises(Conflict):
        registry.register(MASTER_ID, key_b.public_key())
    assert registry.register(MASTER_ID, key_a.public_key()).key.has_private  # same key: no-op


def test_register_upgrades_public_to_private(registry: KeyRegistry, key_b: RsaKey) -> None:
    registry.register("group_1$bob@host.com", key_b.public_key(), label="group")
    upgraded = registry.register("group_1$bob@host.com", key_b)
    assert upgraded.key.has_private and upgraded.label == "group"
    assert registry.register("group_1$bob@host.com", key_b.public_key()) is upgraded


def test_register_errors(registry: KeyRegistry, key_b: RsaKey) -> None:
    with pytest.raises(InvalidInput, match="private master key"):
        registry.register("master$bob@host.com", key_b)
    with pytest.raises(InvalidInput):
        registry.register("nodollar", key_b)
    with pytest.raises(InvalidInput):
        registry.register("x$bob@host.com", key_b, label="\x00")


def test_other_users_master_keys_are_ordinary(registry: KeyRegistry, key_b: RsaKey) -> None:
    record = registry.register("master$bob@host.com", key_b.public_key())
    assert not record.is_identity_key
    assert registry.label(record.key_id, "Bob").label == "Bob"
    registry.erase(record.key_id)
    assert registry.master_key_id == MASTER_ID


# -- JSON for the API ---------------------------------------------------------------------------


def test_to_json_without_private(registry: KeyRegistry, key_a: RsaKey) -> None:
    item = registry.get(MASTER_ID).to_json(include_private=False)
    assert item == {
        "key_id": MASTER_ID,
        "alias": "master",
        "label": "my master key",
        "active": True,
        "creator": IDURL,
        "is_public": False,
        "public": key_a.public_openssh(),
        "private": None,
        "include_private": False,
        "size": "1024",
        "fingerprint": key_a.fingerprint(),
    }
    assert "PRIVATE" not in json.dumps(item)
    assert registry.get(MASTER_ID).to_json() == item


def test_to_json_with_private(registry: KeyRegistry, key_a: RsaKey, key_b: RsaKey) -> None:
    item = registry.get(MASTER_ID).to_json(include_private=True)
    assert item["private"] == key_a.private_text() and item["include_private"] is True
    public_item = registry.register("x$bob@host.com", key_b.public_key()).to_json(include_private=True)
    assert public_item["private"] is None and public_item["is_public"] is True
    assert public_item["creator"] is None
