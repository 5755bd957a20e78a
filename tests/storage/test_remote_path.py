"""Remote path parsing: every accepted form and every rejected one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.main.errors import InvalidInput
from bitdust.storage.remote_path import RemotePath, check_path, parse_remote_path, split_key_prefix

MASTER = "master$alice@127.0.0.1_8084"
SHARE = "share_ab12$alice@127.0.0.1_8084"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{MASTER}:docs/a.txt", RemotePath(MASTER, "docs/a.txt")),
        ("docs/a.txt", RemotePath(MASTER, "docs/a.txt")),
        (f"{SHARE}:x", RemotePath(SHARE, "x")),
        ("/docs/a.txt", RemotePath(MASTER, "docs/a.txt")),
        ("docs/", RemotePath(MASTER, "docs")),
        (f"{MASTER}:/docs/", RemotePath(MASTER, "docs")),
        ("notes:2024/a", RemotePath(MASTER, "notes:2024/a")),
        ("e\u0301t\u00e9", RemotePath(MASTER, "\u00e9t\u00e9")),
        ("a b/c d", RemotePath(MASTER, "a b/c d")),
        ("x" * 255, RemotePath(MASTER, "x" * 255)),
    ],
)
def test_good_paths(text: str, expected: RemotePath) -> None:
    assert parse_remote_path(text, MASTER) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("/", "empty"),
        (f"{MASTER}:", "empty"),
        ("a//b", "empty segment"),
        ("a/../b", "'..'"),
        ("..", "'..'"),
        ("./a", "'.'"),
        ("a/.", "'.'"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("a\x7fb", "control"),
        ("a/" + "x" * 4095, "longer than 4096"),
        ("x" * 256, "255 bytes"),
        ("\u00e9" * 128, "255 bytes"),
        ("Bad$Key@host:a", "invalid key"),
        ("master$alice:a", "invalid"),
        ("a$b$c@h:x", "invalid key id"),
    ],
)
def test_bad_paths(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_remote_path(text, MASTER)
    assert reason in info.value.message


def test_not_a_string() -> None:
    with pytest.raises(InvalidInput):
        parse_remote_path(42, MASTER)  # type: ignore[arg-type]


def test_no_default_key() -> None:
    with pytest.raises(InvalidInput, match="no key id"):
        parse_remote_path("a/b", None)
    assert parse_remote_path(f"{MASTER}:a", None) == RemotePath(MASTER, "a")


def test_root_only_when_allowed() -> None:
    assert parse_remote_path(f"{SHARE}:", MASTER, allow_root=True) == RemotePath(SHARE, "")
    assert parse_remote_path("", MASTER, allow_root=True).is_root


def test_helpers() -> None:
    rp = parse_remote_path("a/b/c.txt", MASTER)
    assert rp.segments == ("a", "b", "c.txt")
    assert rp.name == "c.txt"
    assert rp.parent() == RemotePath(MASTER, "a/b")
    assert rp.ancestors() == [RemotePath(MASTER, "a"), RemotePath(MASTER, "a/b")]
    assert RemotePath(MASTER, "a").child("b") == RemotePath(MASTER, "a/b")
    assert RemotePath(MASTER, "").child("b") == RemotePath(MASTER, "b")
    assert str(rp) == f"{MASTER}:a/b/c.txt"
    assert RemotePath(MASTER, "").parent() is None
    assert split_key_prefix("a:b") == (None, "a:b")


@given(st.text(max_size=60))
def test_parse_never_crashes_and_round_trips(text: str) -> None:
    try:
        rp = parse_remote_path(text, MASTER)
    except InvalidInput:
        return
    assert parse_remote_path(str(rp), None) == rp
    assert check_path(rp.path) == rp.path
