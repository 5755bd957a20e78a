"""The TCP proof of identity: AUTH bodies, what they sign, and what verifies (all in memory)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.python.failure import Failure

from bitdust.transport.errors import ProtocolViolation
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.auth import AuthClaim, AuthFailed, decode_claim, encode_claim
from tests.transport.conftest import ALICE, BOB, CAROL, MALLORY, Directory

MINE, THEIRS = b"m" * frames.NONCE_SIZE, b"t" * frames.NONCE_SIZE


def outcome(d: Any) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred did not fire"
    return results[0]


def alice_proof_for_bob(directory: Directory, **sign: Any) -> AuthClaim:
    """Alice dialled bob: she signs bob's nonce (THEIRS from her side is MINE from his)."""
    args = {"verifier": BOB, "verifier_nonce": MINE, "signer_nonce": THEIRS, **sign}
    body = outcome(directory.authenticator(ALICE).sign(**args))
    return decode_claim(body)


def test_claim_round_trip() -> None:
    claim = AuthClaim(signer=ALICE, verifier=BOB, signature=b"s" * 128)
    body = encode_claim(claim)
    assert len(body) <= frames.MAX_AUTH and decode_claim(body) == claim


def test_claim_refuses_idurls_too_long_to_carry() -> None:
    with pytest.raises(ValueError):
        encode_claim(AuthClaim(signer="http://x/" + "a" * 300, verifier=BOB, signature=b"s"))


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00", b"\x00\x00\x00\x00sig", b"\x00\x05abc", b"\x00\x01a\x00\x01b", b"\x00\x01\xff\x00\x01bsig"],
)
def test_malformed_claims_are_a_violation(body: bytes) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        decode_claim(body)
    assert caught.value.reason == "bad-auth"


@given(st.binary(max_size=600))
def test_random_claim_bodies_only_ever_raise_protocol_violation(body: bytes) -> None:
    try:
        claim = decode_claim(body)
    except ProtocolViolation as exc:
        assert exc.reason == "bad-auth"
    else:
        assert claim.signature and claim.signer and claim.verifier


def test_a_proof_over_this_connections_nonces_verifies(directory: Directory) -> None:
    claim = alice_proof_for_bob(directory)
    assert claim.signer == ALICE and claim.verifier == BOB
    assert outcome(directory.authenticator(BOB).verify(claim, my_nonce=MINE, peer_nonce=THEIRS)) == ALICE


@pytest.mark.parametrize(
    ("my_nonce", "peer_nonce"),
    [(b"x" * frames.NONCE_SIZE, THEIRS), (MINE, b"x" * frames.NONCE_SIZE), (THEIRS, MINE)],
)
def test_a_proof_made_for_other_nonces_is_hostile(directory: Directory, my_nonce: bytes, peer_nonce: bytes) -> None:
    """A proof captured on another connection (or before a restart) proves nothing on this one."""
    claim = alice_proof_for_bob(directory)
    failure = outcome(directory.authenticator(BOB).verify(claim, my_nonce=my_nonce, peer_nonce=peer_nonce))
    assert isinstance(failure, Failure) and failure.check(AuthFailed) and failure.value.hostile


def test_a_proof_signed_by_another_key_is_hostile(directory: Directory) -> None:
    impostor = directory.authenticator(ALICE, key=directory.keys[MALLORY])
    claim = decode_claim(outcome(impostor.sign(verifier=BOB, verifier_nonce=MINE, signer_nonce=THEIRS)))
    failure = outcome(directory.authenticator(BOB).verify(claim, my_nonce=MINE, peer_nonce=THEIRS))
    assert failure.check(AuthFailed) and failure.value.hostile


def test_a_proof_for_someone_else_is_refused_before_any_lookup(directory: Directory) -> None:
    """Bob's proof to carol, passed on to alice by carol, does not make alice bind carol's link to bob."""
    claim = alice_proof_for_bob(directory, verifier=CAROL)
    directory.lookups.clear()
    failure = outcome(directory.authenticator(BOB).verify(claim, my_nonce=MINE, peer_nonce=THEIRS))
    assert failure.check(AuthFailed) and not failure.value.hostile
    assert directory.lookups == []


def test_a_signer_nobody_can_look_up_is_refused_but_not_hostile(directory: Directory) -> None:
    claim = AuthClaim(signer="http://127.0.0.1:8084/nobody.xml", verifier=BOB, signature=b"s" * 128)
    failure = outcome(directory.authenticator(BOB).verify(claim, my_nonce=MINE, peer_nonce=THEIRS))
    assert failure.check(AuthFailed) and not failure.value.hostile


def test_a_signer_that_is_not_a_source_of_the_identity_found_is_hostile(directory: Directory) -> None:
    claim = alice_proof_for_bob(directory)
    lying = Directory.__new__(Directory)
    lying.lookups = []
    lying.keys, lying.identities = directory.keys, {ALICE: directory.identities[MALLORY]}
    lying.identities[BOB] = directory.identities[BOB]
    failure = outcome(lying.authenticator(BOB).verify(claim, my_nonce=MINE, peer_nonce=THEIRS))
    assert failure.check(AuthFailed) and failure.value.hostile


def test_without_an_identity_there_is_nothing_to_sign(directory: Directory) -> None:
    authenticator = directory.authenticator(ALICE)
    authenticator.identity = lambda: None
    assert outcome(authenticator.sign(verifier=BOB, verifier_nonce=MINE, signer_nonce=THEIRS)) is None
