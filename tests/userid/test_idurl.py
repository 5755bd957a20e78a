from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bitdust.main.errors import InvalidInput
from bitdust.userid.idurl import (
    IdUrl,
    check_host,
    check_username,
    key_id_of,
    parse_key_id,
    parse_user_ref,
)


@pytest.mark.parametrize(
    ("url", "global_id", "host", "port", "name"),
    [
        ("http://localhost:8084/alice.xml", "alice@localhost_8084", "localhost", 8084, "alice"),
        ("http://id.example.com/bob.xml", "bob@id.example.com", "id.example.com", 80, "bob"),
        ("http://127.0.0.1:1/customer-1.xml", "customer-1@127.0.0.1_1", "127.0.0.1", 1, "customer-1"),
        ("http://a-b.c:65535/x_y_z.xml", "x_y_z@a-b.c_65535", "a-b.c", 65535, "x_y_z"),
    ],
)
def test_round_trips(url: str, global_id: str, host: str, port: int, name: str) -> None:
    idurl = IdUrl.parse(url)
    assert idurl == IdUrl(host, port, name)
    assert idurl.url == url
    assert str(idurl) == url
    assert idurl.global_id == global_id
    assert IdUrl.from_global_id(global_id) == idurl
    assert parse_user_ref(url) == idurl
    assert parse_user_ref(global_id) == idurl
    assert parse_user_ref(idurl) is idurl


def test_default_port_is_omitted_both_ways() -> None:
    assert IdUrl.parse("http://host.net:80/alice.xml").url == "http://host.net/alice.xml"
    assert IdUrl.from_global_id("alice@host.net_80").global_id == "alice@host.net"
    assert IdUrl("host.net", 80, "alice").server == "host.net"
    assert IdUrl("host.net", 8084, "alice").server == "host.net:8084"


def test_scheme_and_host_are_case_insensitive() -> None:
    assert IdUrl.parse("HTTP://LocalHost:8084/alice.xml") == IdUrl("localhost", 8084, "alice")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("https://h.com/alice.xml", "http scheme"),
        ("ftp://h.com/alice.xml", "http scheme"),
        ("http://user@h.com/alice.xml", "user info"),
        ("http://user:pw@h.com/alice.xml", "user info"),
        ("http://h.com/alice.xml?x=1", "query"),
        ("http://h.com/alice.xml#frag", "fragment"),
        ("http://h.com:0/alice.xml", "port"),
        ("http://h.com:65536/alice.xml", "port"),
        ("http://h.com:080/alice.xml", "port"),
        ("http://h.com:/alice.xml", "port"),
        ("http://h.com:abc/alice.xml", "port"),
        ("http://h.com/alice", "/name.xml"),
        ("http://h.com/", "/name.xml"),
        ("http://h.com", "/name.xml"),
        ("http://h.com/a/alice.xml", "/name.xml"),
        ("http://h.com/../alice.xml", "/name.xml"),
        ("http://h.com/Alice.xml", "user name"),
        ("http://h.com/al.xml", "user name"),
        ("http://h.com/" + "a" * 21 + ".xml", "user name"),
        ("http://h.com/al%20ce.xml", "user name"),
        ("http://h..com/alice.xml", "host"),
        ("http://.h.com/alice.xml", "host"),
        ("http://h_x.com/alice.xml", "host"),
        ("http://-h.com/alice.xml", "host"),
        ("http:///alice.xml", "host"),
        ("http://[::1]:80/alice.xml", "host"),
        ("alice.xml", "expected http://"),
        (" http://h.com/alice.xml", "expected http://"),
        ("http://h.com/alice.xml ", "/name.xml"),
        ("http://h.com/" + "a" * 600, "longer"),
    ],
)
def test_bad_idurls(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        IdUrl.parse(text)
    assert reason in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "alice",
        "alice@",
        "@host",
        "alice@host@x",
        "al@host",
        "alice@host_",
        "alice@host_0",
        "alice@host_99999",
        "alice@host_08",
        "alice@ho_st_80",
        "Alice@host",
        "alice@host..x",
        "alice@host/x",
        5,
    ],
)
def test_bad_global_ids(text: object) -> None:
    with pytest.raises(InvalidInput):
        IdUrl.from_global_id(text)  # type: ignore[arg-type]


def test_constructor_validates() -> None:
    with pytest.raises(InvalidInput):
        IdUrl("h.com", 0, "alice")
    with pytest.raises(InvalidInput):
        IdUrl("h.com", True, "alice")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        IdUrl("H.com", 80, "alice")
    with pytest.raises(InvalidInput):
        IdUrl("h.com", 80, "a")


@pytest.mark.parametrize("name", ["abc", "customer-1", "a_b", "0123456789abcdefghij", "---"])
def test_good_usernames(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize("name", ["ab", "", "a" * 21, "Alice", "al ice", "al.ce", "alicé", None, 123])
def test_bad_usernames(name: object) -> None:
    with pytest.raises(InvalidInput) as info:
        check_username(name)  # type: ignore[arg-type]
    assert "3 to 20" in info.value.message


def test_hosts() -> None:
    assert check_host("a.b-c.d") == "a.b-c.d"
    for bad in ["", "a.", "a..b", "a-.b", "a" * 254, "a b", "a/b"]:
        with pytest.raises(InvalidInput):
            check_host(bad)


def test_user_refs() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_user_ref("alice")
    assert "DHT" in info.value.message
    with pytest.raises(InvalidInput) as info:
        parse_user_ref("master$alice@host")
    assert "key id" in info.value.message
    for bad in ["", "!!", None, "http://x"]:
        with pytest.raises(InvalidInput):
            parse_user_ref(bad)  # type: ignore[arg-type]


def test_key_ids() -> None:
    assert key_id_of("master", IdUrl("localhost", 8084, "alice")) == "master$alice@localhost_8084"
    assert key_id_of("share_1", "http://host.net/bob.xml") == "share_1$bob@host.net"
    assert key_id_of("group", "carol@h_81") == "group$carol@h_81"
    assert parse_key_id("master$alice@localhost_8084") == ("master", IdUrl("localhost", 8084, "alice"))
    with pytest.raises(InvalidInput):
        key_id_of("Bad Alias", "alice@host")
    with pytest.raises(InvalidInput):
        parse_key_id("master$al@host")


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(
    host=st.lists(_label, min_size=1, max_size=4).map(".".join),
    port=st.integers(1, 65535),
    name=st.from_regex(r"[a-z0-9_-]{3,20}", fullmatch=True),
)
def test_round_trip_property(host: str, port: int, name: str) -> None:
    idurl = IdUrl(host, port, name)
    assert IdUrl.parse(idurl.url) == idurl
    assert IdUrl.from_global_id(idurl.global_id) == idurl


@given(st.text(max_size=60))
def test_random_text_is_refused_or_round_trips(text: str) -> None:
    for parse in (IdUrl.parse, IdUrl.from_global_id, parse_user_ref):
        try:
            idurl = parse(text)
        except InvalidInput:
            continue
        assert IdUrl.parse(idurl.url) == idurl
