from __future__ import annotations

import pytest

from bitdust.crypt.key_id import MASTER_ALIAS, check_alias, check_key_id, make_key_id, split_key_id
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import InvalidInput

GOOD = [
    ("abcd1234", "alice@server-a.com"),
    (MASTER_ALIAS, "alice@host"),
    ("share_7e9726e2dccf9ebe6077070e98e78082", "alice@server-a.com"),
    ("group_95d0fedc46308e2254477fcb96364af9", "bob@127.0.0.1_8084"),
    ("a", "b@c"),
    ("x-y_z", "user.name@id-server.net"),
    ("a" * 50, "alice@host"),
]


@pytest.mark.parametrize(("alias", "global_id"), GOOD)
def test_make_and_split_round_trip(alias: str, global_id: str) -> None:
    key_id = make_key_id(alias, global_id)
    assert key_id == f"{alias}${global_id}"
    assert split_key_id(key_id) == (alias, global_id)
    assert check_key_id(key_id) == key_id


BAD_KEY_IDS = [
    "",
    "no-dollar-sign",
    "alice@host",
    "a$b$c@d",
    "$alice@host",
    "Abc$alice@host",
    "a b$alice@host",
    "a.b$alice@host",
    "a$alice",
    "a$@host",
    "a$alice@",
    "a$alice@host@x",
    "a$alice@../x",
    "a$alice@..",
    "a$alice@host..com",
    "a$.alice@host",
    "a$alice@.host",
    "a/b$alice@host",
    "a$alice@host/x",
    "a$alice@host\n",
    "a$Alice@host",
    "a$alice@host:8084",
    "a" * 51 + "$alice@host",
]


@pytest.mark.parametrize("key_id", BAD_KEY_IDS)
def test_split_refuses_malformed_ids(key_id: str) -> None:
    with pytest.raises(InvalidInput) as info:
        split_key_id(key_id)
    assert status_of(info.value) == 400
    assert "invalid key id" in info.value.message


@pytest.mark.parametrize("value", [None, 5, b"a$alice@host"])
def test_split_refuses_non_strings(value: object) -> None:
    with pytest.raises(InvalidInput):
        split_key_id(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("alias", ["", "A", "a$", "a@b", "a.b", "é", "a" * 51, "a b", "a\n"])
def test_check_alias_refuses(alias: str) -> None:
    with pytest.raises(InvalidInput, match="invalid key alias"):
        check_alias(alias)


def test_make_key_id_checks_both_parts() -> None:
    with pytest.raises(InvalidInput, match="invalid key alias"):
        make_key_id("Bad", "alice@host")
    with pytest.raises(InvalidInput, match="invalid global id"):
        make_key_id("good", "alice")
