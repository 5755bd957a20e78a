"""Proving who is on the other end of one TCP connection: an AUTH frame signed over a fresh nonce.

A verified packet says who *created* it, not who is *sending* it: a signed packet can be captured
and replayed by anyone, on any connection, also after the receiver restarted and forgot what it had
seen. So a connection is bound to a peer (used for sending to that peer) only after the peer signed
this connection's challenge: each side's hello carries a random nonce, and the AUTH frame carries a
signature over the tagged tuple ``(signer, verifier, verifier's nonce, signer's nonce)``. Nothing
signed for one connection proves anything on another, so binding needs no replay memory at all.

Who sends AUTH: the side that dialled, as soon as it has the other's hello (it knows whom it meant
to reach); the side that accepted, once the dialler's AUTH verified (then it knows whom to address).
Naming the verifier keeps a proof meant for one node from being passed on to another: a stranger
who connects to both cannot use bob's answer to it as bob's proof to alice.

Verification runs against the signer's identity from the identity cache (fetched when unknown, as
for any packet's creator), the RSA check in a worker thread. The tag keeps these signatures apart
from everything else the same key signs (packets sign ``bitdust-packet/2``, identities
``bitdust-identity/1``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import attrs
import msgpack
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.main.collaborators import RunBlocking
from bitdust.transport.errors import ProtocolViolation
from bitdust.transport.tcp import frames

if TYPE_CHECKING:
    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.userid.identity import Identity

T = TypeVar("T")

AUTH_TAG = "bitdust-tcp-auth/1"
MAX_IDURL = 256
_LENGTH = struct.Struct(">H")


class AuthFailed(Exception):
    """An AUTH that proves nothing. ``hostile`` when no honest peer could have sent it (bad signature)."""

    def __init__(self, message: str, *, hostile: bool = False) -> None:
        super().__init__(message)
        self.hostile = hostile


@attrs.frozen
class AuthClaim:
    #: the IDURL whose key signed
    signer: str
    #: the IDURL of the side the proof is for
    verifier: str
    signature: bytes


def signed_bytes(*, signer: str, verifier: str, verifier_nonce: bytes, signer_nonce: bytes) -> bytes:
    """What an AUTH signs: tagged, and covering both IDURLs and both nonces of this connection."""
    return msgpack.packb([AUTH_TAG, signer, verifier, verifier_nonce, signer_nonce], use_bin_type=True)


def encode_claim(claim: AuthClaim) -> bytes:
    parts = []
    for idurl in (claim.signer, claim.verifier):
        raw = idurl.encode()
        if len(raw) > MAX_IDURL:
            raise ValueError(f"IDURL of {len(raw)} bytes exceeds {MAX_IDURL}")
        parts += [_LENGTH.pack(len(raw)), raw]
    body = b"".join(parts) + claim.signature
    if len(body) > frames.MAX_AUTH:
        raise ValueError(f"AUTH body of {len(body)} bytes exceeds {frames.MAX_AUTH}")
    return body


def decode_claim(body: bytes) -> AuthClaim:
    """The AUTH body as a claim; ProtocolViolation("bad-auth") for anything malformed."""
    offset = 0
    idurls = []
    try:
        for _ in range(2):
            (length,) = _LENGTH.unpack_from(body, offset)
            offset += _LENGTH.size
            raw = body[offset : offset + length]
            if length == 0 or length > MAX_IDURL or len(raw) != length:
                raise ProtocolViolation("bad-auth")
            offset += length
            idurls.append(raw.decode("ascii"))
    except (struct.error, UnicodeDecodeError):
        raise ProtocolViolation("bad-auth") from None
    signature = bytes(body[offset:])
    if not signature or not all(idurl.isprintable() for idurl in idurls):
        raise ProtocolViolation("bad-auth")
    return AuthClaim(signer=idurls[0], verifier=idurls[1], signature=signature)


@attrs.frozen
class ReceivedAuth:
    """The peer's AUTH frame as the connection machine gets it: a claim, or why it is none."""

    claim: AuthClaim | None
    #: the violation a malformed body is ("bad-auth"); empty when ``claim`` is set
    problem: str = ""

    @classmethod
    def decode(cls, body: bytes) -> ReceivedAuth:
        try:
            return cls(decode_claim(body))
        except ProtocolViolation as exc:
            return cls(None, exc.reason)


class Authenticator:
    """Signs our AUTH frames and verifies the peers'; everything it needs comes in as callables.

    ``identity()`` is our current identity (None before we have one), ``signing_key()`` our master
    RsaKey, ``identity_for(idurl)`` a Deferred of the peer's identity (the cache's, fetched when
    unknown), ``run_blocking(func, *args)`` runs RSA work in a worker thread.
    """

    def __init__(
        self,
        *,
        identity: Callable[[], Identity | None],
        signing_key: Callable[[], RsaKey | None],
        identity_for: Callable[[str], defer.Deferred[Identity]],
        run_blocking: RunBlocking,
    ) -> None:
        self.identity = identity
        self.signing_key = signing_key
        self.identity_for = identity_for
        self.run_blocking = run_blocking

    def my_ids(self) -> set[str]:
        me = self.identity()
        return {source.url for source in me.sources} if me is not None else set()

    def sign(self, *, verifier: str, verifier_nonce: bytes, signer_nonce: bytes) -> defer.Deferred[bytes | None]:
        """Our AUTH body for this connection; None when we have no identity or key to prove with."""
        me, key = self.identity(), self.signing_key()
        if me is None or key is None or not key.has_private:
            return defer.succeed(None)
        signer = me.idurl.url
        data = signed_bytes(signer=signer, verifier=verifier, verifier_nonce=verifier_nonce, signer_nonce=signer_nonce)

        def claim(signature: bytes) -> bytes:
            return encode_claim(AuthClaim(signer=signer, verifier=verifier, signature=signature))

        return self.run_blocking(key.sign, data).addCallback(claim)

    def verify(self, claim: AuthClaim, *, my_nonce: bytes, peer_nonce: bytes) -> defer.Deferred[str]:
        """Fires with the signer's primary IDURL once ``claim`` proves it; AuthFailed otherwise."""
        if claim.verifier not in self.my_ids():
            return defer.fail(AuthFailed(f"the proof is addressed to {claim.verifier}, not to us"))
        data = signed_bytes(
            signer=claim.signer, verifier=claim.verifier, verifier_nonce=my_nonce, signer_nonce=peer_nonce
        )
        d = defer.maybeDeferred(self.identity_for, claim.signer)

        def unavailable(failure: Failure) -> NoReturn:
            raise AuthFailed(f"identity of {claim.signer} is not available: {failure.getErrorMessage()}")

        def check(identity: Identity) -> defer.Deferred[str]:
            if claim.signer not in {source.url for source in identity.sources}:
                raise AuthFailed(f"{claim.signer} is not a source of the identity {identity.idurl}", hostile=True)

            def checked(valid: bool) -> str:
                if not valid:
                    raise AuthFailed(f"bad signature in the proof of {claim.signer}", hostile=True)
                return identity.idurl.url

            return self.run_blocking(identity.public_rsa().verify, claim.signature, data).addCallback(checked)

        return d.addCallbacks(check, unavailable)
