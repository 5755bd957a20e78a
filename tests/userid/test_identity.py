from __future__ import annotations

import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitdust.crypt.rsa_key import RsaKey
from bitdust.userid.errors import IdentityError, IdentitySignatureError
from bitdust.userid.identity import CANONICAL_FORMAT, MAX_IDENTITY_SIZE, Identity
from bitdust.userid.idurl import IdUrl
from tests.userid.helpers import make_identity


@pytest.fixture(scope="module")
def signed(key_a: RsaKey) -> Identity:
    return make_identity(
        key_a,
        sources=["http://localhost:8084/alice.xml", "http://id2.net/alice.xml"],
        contacts=("tcp://127.0.0.1:7771", "udp://127.0.0.1:8882"),
        revision=5,
    )


@pytest.fixture(scope="module")
def xml(signed: Identity) -> str:
    return signed.to_xml()


def _sub(pattern: str, replacement: str, text: str) -> str:
    result, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, pattern
    return result


# -- signing ------------------------------------------------------------------------------------


def test_sign_and_verify(key_a: RsaKey, key_b: RsaKey, signed: Identity) -> None:
    assert signed.verify()
    unsigned = make_identity(key_a, sign=False)
    assert not unsigned.verify()
    assert unsigned.signed(key_a).verify()
    with pytest.raises(IdentityError, match="not the identity's public key"):
        unsigned.signed(key_b)
    with pytest.raises(IdentityError, match="private key"):
        unsigned.signed(key_a.public_key())
    assert signed.public_rsa() == key_a
    assert not signed.public_rsa().has_private


def test_properties(signed: Identity) -> None:
    assert signed.name == "alice"
    assert signed.idurl == IdUrl("localhost", 8084, "alice")
    assert signed.global_id == "alice@localhost_8084"


def test_canonical_bytes(signed: Identity) -> None:
    data = signed.canonical_bytes()
    parsed = json.loads(data)
    assert parsed["format"] == CANONICAL_FORMAT
    assert "signature" not in parsed
    assert parsed["revision"] == 5
    assert data == json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
    assert signed.with_changes().canonical_bytes() == data


def test_resigning_keeps_content(key_a: RsaKey, signed: Identity) -> None:
    again = signed.with_changes().signed(key_a)
    assert again.signature != signed.signature  # PSS signatures are randomized
    assert again.same_content(signed)
    assert again != signed


def test_public_key_comment_is_normalized(key_a: RsaKey) -> None:
    identity = Identity(sources=["http://h.net/alice.xml"], public_key=key_a.public_openssh() + " alice@laptop")
    assert identity.public_key == key_a.public_openssh()


def test_with_changes(key_a: RsaKey, signed: Identity) -> None:
    changed = signed.with_changes(revision=6, contacts=("tcp://10.0.0.1:7771",))
    assert changed.signature == ""
    assert not changed.verify()
    assert changed.signed(key_a).verify()
    assert changed.revision == 6
    with pytest.raises(TypeError):
        signed.with_changes(signature="x")
    with pytest.raises(IdentityError):
        signed.with_changes(revision=-1)


def test_to_json(signed: Identity) -> None:
    data = signed.to_json()
    assert data == {
        "name": "alice",
        "idurl": "http://localhost:8084/alice.xml",
        "global_id": "alice@localhost_8084",
        "sources": ["http://localhost:8084/alice.xml", "http://id2.net/alice.xml"],
        "contacts": ["tcp://127.0.0.1:7771", "udp://127.0.0.1:8882"],
        "certificates": [],
        "scrubbers": [],
        "postage": "1",
        "date": "Jan 01, 2025",
        "version": "test",
        "revision": "5",
        "publickey": signed.public_key,
        "signature": signed.signature,
    }
    assert signed.to_json(include_xml=True)["xml"] == signed.to_xml()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"sources": []}, "at least one source"),
        ({"sources": [f"http://h{i}.net/alice.xml" for i in range(7)]}, "too many sources"),
        ({"sources": ["http://h.net/alice.xml", "http://h.net/alice.xml"]}, "duplicate source"),
        ({"sources": ["http://h.net/alice.xml", "http://g.net/bob.xml"]}, "same user name"),
        ({"sources": ["https://h.net/alice.xml"]}, "source 1"),
        ({"sources": "http://h.net/alice.xml"}, "sequence"),
        ({"contacts": ["127.0.0.1:7771"]}, "transport endpoint"),
        ({"contacts": ["tcp://" + "a" * 251]}, "longer than 256"),
        ({"contacts": [f"tcp://h:{i}" for i in range(17)]}, "too many contact"),
        ({"contacts": ["tcp://h:1", "tcp://h:1"]}, "duplicate contact"),
        ({"contacts": [""]}, "empty"),
        ({"contacts": [" tcp://h:1"]}, "whitespace"),
        ({"contacts": "tcp://h:1"}, "single string"),
        ({"revision": True}, "integer"),
        ({"revision": "5"}, "integer"),
        ({"revision": -1}, "out of range"),
        ({"date": "Jan\n01"}, "printable"),
        ({"version": "v" * 257}, "longer than"),
        ({"signature": "not base64!"}, "base64"),
        ({"public_key": ""}, "needs a public key"),
        ({"public_key": "ssh-rsa AAAAgarbage"}, "bad public key"),
        ({"certificates": ["x" * 1025]}, "longer than"),
    ],
)
def test_constructor_refuses(key_a: RsaKey, fields: dict, reason: str) -> None:
    base = {"sources": ["http://h.net/alice.xml"], "public_key": key_a.public_openssh()}
    with pytest.raises(IdentityError) as info:
        Identity(**{**base, **fields})
    assert reason in info.value.message


def test_small_keys_are_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.RSAPublicNumbers(65537, (1 << 511) | 0x1235).public_key()
    text = small.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    with pytest.raises(IdentityError, match="bad public key.*512 bits"):
        Identity(sources=["http://h.net/alice.xml"], public_key=text)


# -- XML ----------------------------------------------------------------------------------------


def test_xml_round_trip(signed: Identity, xml: str) -> None:
    assert xml.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert Identity.from_xml(xml) == signed
    assert Identity.from_xml(xml.encode("utf-8")) == signed
    minimal = make_identity(RsaKey.from_public_text(signed.public_key), sign=False, contacts=())
    assert Identity.from_xml(minimal.to_xml(), require_signature=False) == minimal


def test_formatting_and_order_do_not_matter(signed: Identity, xml: str) -> None:
    compact = re.sub(r">\s+<", "><", xml)
    assert Identity.from_xml(compact) == signed
    spread = xml.replace("<source>", "<source>\n     ").replace("</revision>", "  </revision>").replace("\n", "\r\n")
    assert Identity.from_xml(spread) == signed
    no_declaration = xml.split("\n", 1)[1]
    assert Identity.from_xml(no_declaration) == signed
    blocks = re.findall(r"  <(\w+)(?: />|>.*?</\1>)\n", xml, flags=re.DOTALL)
    assert len(blocks) == 10
    children = re.findall(r"(  <(\w+)(?: />|>.*?</\2>)\n)", xml, flags=re.DOTALL)
    shuffled = [child[0] for child in children]
    random.Random(4).shuffle(shuffled)
    reordered = "<identity>\n" + "".join(shuffled) + "</identity>"
    assert Identity.from_xml(reordered) == signed
    with_comment = xml.replace("<contacts>", "<!-- note --><contacts>")
    assert Identity.from_xml(with_comment) == signed


def test_optional_elements_default(signed: Identity, xml: str) -> None:
    stripped = re.sub(r"\s*<(certificates|scrubbers) />", "", xml)
    assert Identity.from_xml(stripped) == signed


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        ("<revision>5</revision>", "<revision>6</revision>"),
        ("tcp://127.0.0.1:7771", "tcp://6.6.6.6:7771"),
        ("http://id2.net/alice.xml", "http://evil.net/alice.xml"),
        ("<contact>udp://127.0.0.1:8882</contact>", ""),
        ("<date>Jan 01, 2025</date>", "<date>Jan 02, 2025</date>"),
        ("<version>test</version>", "<version />"),
        ("<postage>1</postage>", "<postage>2</postage>"),
        ("<certificates />", "<certificates><certificate>x</certificate></certificates>"),
    ],
)
def test_tampered_fields_fail(xml: str, pattern: str, replacement: str) -> None:
    tampered = xml.replace(pattern, replacement, 1)
    assert tampered != xml
    with pytest.raises(IdentitySignatureError, match="signature does not match"):
        Identity.from_xml(tampered)
    assert not Identity.from_xml(tampered, require_signature=False).verify()


def test_swapped_key_fails(xml: str, key_b: RsaKey) -> None:
    tampered = _sub(r"<publickey>[^<]*</publickey>", f"<publickey>{key_b.public_openssh()}</publickey>", xml)
    with pytest.raises(IdentitySignatureError):
        Identity.from_xml(tampered)


def test_signature_damage_fails(xml: str, signed: Identity) -> None:
    flipped = signed.signature[:10] + ("A" if signed.signature[10] != "A" else "B") + signed.signature[11:]
    with pytest.raises(IdentitySignatureError):
        Identity.from_xml(xml.replace(signed.signature, flipped))
    with pytest.raises(IdentitySignatureError):
        Identity.from_xml(xml.replace(signed.signature, "AAAA"))
    with pytest.raises(IdentitySignatureError):
        Identity.from_xml(xml.replace(signed.signature, signed.signature[:-4]))  # bad padding
    with pytest.raises(IdentitySignatureError, match="not signed"):
        Identity.from_xml(xml.replace(f"<signature>{signed.signature}</signature>", ""))
    with pytest.raises(IdentitySignatureError, match="not signed"):
        Identity.from_xml(xml.replace(f"<signature>{signed.signature}</signature>", "<signature/>"))


@pytest.mark.parametrize(
    ("pattern", "replacement", "reason"),
    [
        ("<identity>", "<identity><nickname>x</nickname>", "unknown element <nickname>"),
        ("<identity>", "<identity><revision>5</revision>", "duplicate element <revision>"),
        ("<identity>", '<identity version="2">', "no attributes"),
        ("<identity>", "<identity>hello", "unexpected text"),
        ("</sources>", "</sources>junk", "unexpected text after <sources>"),
        ("<sources>", "<sources>junk", "only <source>"),
        ("<sources>", '<sources kind="x">', "only <source>"),
        ("<sources>", "<sources><contact>tcp://a:1</contact>", "unexpected <contact>"),
        ("<revision>5</revision>", "<revision><b>5</b></revision>", "plain text"),
        ("<revision>5</revision>", "<revision>five</revision>", "not a non-negative integer"),
        ("<revision>5</revision>", "<revision>-5</revision>", "not a non-negative integer"),
        ("<revision>5</revision>", "<revision>" + "9" * 30 + "</revision>", "not a non-negative integer"),
        ("<revision>5</revision>", "<revision>\u0665</revision>", "not a non-negative integer"),
        ("<revision>5</revision>", "", "lacks <revision>"),
        (r"<publickey>[^<]*</publickey>", "", "lacks <publickey>"),
        (r"<publickey>[^<]*</publickey>", "<publickey>ssh-rsa AAAA</publickey>", "bad public key"),
        (r"<publickey>[^<]*</publickey>", "<publickey />", "needs a public key"),
        (r"<sources>.*?</sources>", "", "lacks <sources>"),
        (r"<sources>.*?</sources>", "<sources />", "at least one source"),
        ("http://id2.net/alice.xml", "http://id2.net/bob.xml", "same user name"),
        ("http://id2.net/alice.xml", "https://id2.net/alice.xml", "source 2"),
        ("http://id2.net/alice.xml", "http://id2.net/alice.xml?x", "source 2"),
        ("<contacts>", "<contacts>" + "<contact>tcp://h:1</contact>" * 17, "too many <contact>"),
        ("<identity>", '<identity xmlns="urn:x">', "expected <identity>"),
    ],
)
def test_malformed_documents_refused(xml: str, pattern: str, replacement: str, reason: str) -> None:
    bad = re.sub(pattern, lambda _m: replacement, xml, count=1, flags=re.DOTALL)
    assert bad != xml
    with pytest.raises(IdentityError) as info:
        Identity.from_xml(bad, require_signature=False)
    assert reason in info.value.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml",
        b"<identity>",
        b"<identity></identiti>",
        b"\xff\xfe<identity/>",
        "<id\x00entity/>",
        b"<html/>",
        42,
    ],
)
def test_garbage_refused(data: object) -> None:
    with pytest.raises(IdentityError):
        Identity.from_xml(data)  # type: ignore[arg-type]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<identity><date>&lol4;</date></identity>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE identity [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<identity><date>&xxe;</date></identity>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE identity SYSTEM "http://evil.example/identity.dtd">
<identity></identity>"""

UNDECLARED_ENTITY = "<identity><date>&nope;</date></identity>"


@pytest.mark.parametrize("attack", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, UNDECLARED_ENTITY])
def test_dtd_and_entity_attacks_refused(attack: str) -> None:
    with pytest.raises(IdentityError) as info:
        Identity.from_xml(attack, require_signature=False)
    assert "DTD" in info.value.message or "malformed" in info.value.message


def test_dtd_in_valid_document_refused(xml: str) -> None:
    with_dtd = xml.replace("<identity>", "<!DOCTYPE identity []>\n<identity>")
    with pytest.raises(IdentityError, match="DTD"):
        Identity.from_xml(with_dtd)


def test_oversized_refused(xml: str) -> None:
    padded = xml.replace("<identity>", "<identity>" + " " * MAX_IDENTITY_SIZE)
    with pytest.raises(IdentityError, match="over the 32768 byte limit"):
        Identity.from_xml(padded)
    with pytest.raises(IdentityError, match="byte limit"):
        Identity.from_xml(padded.encode())
    multibyte = "<identity><date>" + "é" * (MAX_IDENTITY_SIZE // 2) + "</date></identity>"
    with pytest.raises(IdentityError, match="byte limit"):
        Identity.from_xml(multibyte)


# -- random mutations ---------------------------------------------------------------------------

_mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 40)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.binary(min_size=1, max_size=12)),
    st.tuples(st.just("replace"), st.integers(0, 10_000), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("duplicate"), st.integers(0, 10_000), st.integers(1, 80)),
    st.tuples(
        st.just("token"),
        st.integers(0, 10_000),
        st.sampled_from([b"<", b">", b"/", b"&", b"&amp;", b"<!DOCTYPE x>", b"<x/>", b"]]>", b"\x00", b"5", b" "]),
    ),
)


def _mutate(data: bytes, mutations: list[tuple]) -> bytes:
    for kind, position, arg in mutations:
        position %= len(data) + 1
        if kind == "delete":
            data = data[:position] + data[position + arg :]
        elif kind in ("insert", "token"):
            data = data[:position] + arg + data[position:]
        elif kind == "replace":
            data = data[:position] + arg + data[position + len(arg) :]
        else:
            data = data[:position] + data[position : position + arg] + data[position:]
        if not data:
            data = b"<"
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(_mutation, min_size=1, max_size=4))
def test_random_mutations_only_raise_identity_error(xml: str, signed: Identity, mutations: list[tuple]) -> None:
    data = _mutate(xml.encode("utf-8"), mutations)
    try:
        parsed = Identity.from_xml(data)
    except IdentityError:
        pass
    else:
        assert parsed.verify()
        assert parsed.same_content(signed)
    try:
        loose = Identity.from_xml(data, require_signature=False)
    except IdentityError:
        return
    if loose.verify():  # only the signed content can verify; anything else parses unverified
        assert loose.same_content(signed)


def test_unknown_xml_encoding_is_a_parse_error(key_a) -> None:
    """Found by the mutation test: a declaration naming an unknown encoding must not escape."""
    from bitdust.userid.errors import IdentityError
    from tests.userid.helpers import make_identity

    xml = make_identity(key_a).to_xml().replace('encoding="utf-8"', 'encoding="tf-8"')
    with pytest.raises(IdentityError, match="malformed"):
        Identity.from_xml(xml.encode())
