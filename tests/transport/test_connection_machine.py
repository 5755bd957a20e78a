"""The tcp_connection machine (automats/tcp_connection.md) alone: one TcpConnection on a StringTransport.

Its collaborators are recording fakes: the pool (``FakePool``, a ConnectionOwner that records what the
connection reports and binds) and the authenticator (``FakeAuthenticator``, whose signatures and
checks wait until the test fires them), so every edge is taken at the moment the test chooses.
``test_connections.py`` and ``test_binding.py`` drive the same class through real pools and keys.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, task
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.transport.bandwidth import TokenBucket
from bitdust.transport.errors import NotConnected
from bitdust.transport.penalties import AddressPenalties
from bitdust.transport.tcp import frames
from bitdust.transport.tcp.auth import AuthClaim, AuthFailed, encode_claim
from bitdust.transport.tcp.budget import BudgetLimits, ReceiveBudget
from bitdust.transport.tcp.connection import TcpConnection
from bitdust.transport.tcp.frames import FrameDecoder, FrameType, encode_frame, encode_hello
from tests.transport.conftest import ALICE, BOB, CAROL

MIB = 1024 * 1024


class FakeAuthenticator:
    """Records every signature and check asked for; each waits for the test to fire it."""

    def __init__(self) -> None:
        self.signs: list[tuple[str, defer.Deferred[bytes | None]]] = []
        self.checks: list[tuple[AuthClaim, defer.Deferred[str]]] = []

    def sign(self, *, verifier: str, verifier_nonce: bytes, signer_nonce: bytes) -> defer.Deferred[bytes | None]:
        d: defer.Deferred[bytes | None] = defer.Deferred()
        self.signs.append((verifier, d))
        return d

    def verify(self, claim: AuthClaim, *, my_nonce: bytes, peer_nonce: bytes) -> defer.Deferred[str]:
        d: defer.Deferred[str] = defer.Deferred()
        self.checks.append((claim, d))
        return d


class FakePool:
    """A ConnectionOwner that records what its connection tells it, in order."""

    def __init__(self, authenticator: FakeAuthenticator | None) -> None:
        self.clock = task.Clock()
        self.log = Logger()
        self.authenticator = authenticator
        self.receive_budget = ReceiveBudget(BudgetLimits(per_peer=2 * MIB))
        self.penalties = AddressPenalties(self.clock)
        self.send_bucket = TokenBucket(self.clock, 0)
        self.max_packet = 2 * MIB
        self.idle_close: float | None = None
        self.keepalive: float | None = None
        self.dead_timeout: float | None = None
        self.stall_timeout: float | None = None
        self.max_garbage = 3
        self.violations = 0
        self.auth_refused = 0
        self.dropped_for_garbage = 0
        self.calls: list[tuple[str, ...]] = []

    def on_packet(self, data: bytes, conn: TcpConnection) -> None:
        self.calls.append(("packet", data.decode()))

    def sent_chunk(self, size: int) -> float:
        return 0.0

    def received(self, size: int) -> None:
        pass

    def bind(self, conn: TcpConnection, idurl: str) -> None:
        self.calls.append(("bind", idurl))
        conn.verified, conn.peer = True, idurl

    def refuse_address(self, host: str, reason: str) -> None:
        self.calls.append(("refuse", host))

    def _opened(self, conn: TcpConnection) -> None:
        self.calls.append(("opened",))

    def _closed(self, conn: TcpConnection, reason: Failure) -> None:
        self.calls.append(("closed",))


class Harness:
    """One connection: ``out`` is alice dialling bob, ``in`` is bob's side of a connection alice dialled."""

    def __init__(self, direction: str, *, authenticator: bool = True) -> None:
        self.auth = FakeAuthenticator() if authenticator else None
        self.pool = FakePool(self.auth)
        self.conn = TcpConnection(self.pool, direction, expected_peer=BOB if direction == "out" else None)
        self.wire = StringTransport()
        self.peer = ALICE if direction == "in" else BOB
        self.me = BOB if direction == "in" else ALICE

    @property
    def state(self) -> str:
        return self.conn.state

    def connect(self) -> Harness:
        self.conn.makeConnection(self.wire)
        return self

    def hello(self) -> Harness:
        self.conn.dataReceived(encode_hello())
        return self

    def auth_frame(self, *, signer: str | None = None, body: bytes | None = None) -> Harness:
        claim = AuthClaim(signer=signer or self.peer, verifier=self.me, signature=b"signature")
        self.conn.dataReceived(encode_frame(FrameType.AUTH, 0, encode_claim(claim) if body is None else body))
        return self

    def fire_sign(self, body: bytes | None = b"our proof") -> Harness:
        assert self.auth is not None
        _verifier, d = self.auth.signs[-1]
        d.callback(body)
        return self

    def verify(self, idurl: str) -> Harness:
        assert self.auth is not None
        self.auth.checks[-1][1].callback(idurl)
        return self

    def refuse(self, exc: Exception) -> Harness:
        assert self.auth is not None
        self.auth.checks[-1][1].errback(exc)
        return self

    def closing(self) -> Harness:
        self.conn.close(frames.GOODBYE_IDLE)
        return self

    def lose(self) -> Harness:
        self.conn.connectionLost(Failure(ConnectionDone()))
        return self

    def written(self) -> list[FrameType]:
        """The kinds of frames written so far (after our hello)."""
        return [frame.type for frame in FrameDecoder().feed(self.wire.value())]


def at(state: str) -> Harness:
    """A harness whose connection is in ``state``, reached the ordinary way."""
    steps: dict[str, Any] = {
        "GREETING": lambda: Harness("out").connect(),
        "PROVING": lambda: Harness("out").connect().hello(),
        "CLAIM_HELD": lambda: Harness("out").connect().hello().auth_frame(),
        "OPEN": lambda: Harness("in").connect().hello(),
        "CHECKING": lambda: Harness("in").connect().hello().auth_frame(),
        "ANSWERING": lambda: Harness("in").connect().hello().auth_frame().verify(ALICE),
        "PROVED": lambda: Harness("out").connect().hello().fire_sign().auth_frame().verify(BOB),
        "UNPROVED": lambda: Harness("in", authenticator=False).connect().hello().auth_frame(),
        "CLOSING": lambda: Harness("in").connect().hello().auth_frame().closing(),
    }
    harness = steps[state]()
    assert harness.state == state
    return harness


# -- the hello and our proof ----------------------------------------------------------------------


def test_made_registers_with_the_pool_and_waits_for_the_hello() -> None:
    h = Harness("out")
    assert h.state == "AT_STARTUP" and h.pool.calls == []
    h.connect()
    assert h.state == "GREETING" and h.pool.calls == [("opened",)]
    assert h.wire.value() == encode_hello(h.conn.nonce)  # our hello, nothing else yet


def test_the_dialler_signs_the_peers_nonce_and_holds_its_packets_meanwhile() -> None:
    h = Harness("out").connect()
    sent: list[Any] = []
    h.conn.send_packet(b"first").addBoth(sent.append)
    h.hello()
    assert h.state == "PROVING" and [v for v, _d in h.auth.signs] == [BOB] and not h.conn.ready
    assert sent == [] and h.written() == []


def test_the_side_that_accepted_is_open_at_the_hello_and_signs_nothing_yet() -> None:
    h = Harness("in").connect().hello()
    assert h.state == "OPEN" and h.auth.signs == [] and h.conn.ready


def test_our_proof_goes_before_the_packets_it_held_back() -> None:
    h = Harness("out").connect()
    sent: list[Any] = []
    h.conn.send_packet(b"first").addBoth(sent.append)
    h.hello().fire_sign()
    assert h.state == "OPEN" and sent == [None] and h.conn.ready
    assert h.written() == [FrameType.AUTH, FrameType.MESSAGE]


def test_with_nothing_to_prove_with_the_dialler_is_open_at_once() -> None:
    h = Harness("out", authenticator=False).connect().hello()
    assert h.state == "OPEN" and h.conn.ready and h.written() == []


def test_a_malformed_auth_while_we_sign_is_a_violation() -> None:
    h = at("PROVING").auth_frame(body=b"\x00")
    assert h.state == "CLOSING" and h.pool.violations == 1 and h.wire.disconnected


def test_an_auth_while_we_sign_is_held_until_ours_is_written() -> None:
    h = at("PROVING").auth_frame()
    assert h.state == "CLAIM_HELD" and h.auth.checks == []
    assert h.conn.proving(BOB) is not None  # a send to bob waits for this proof
    h.fire_sign()
    assert h.state == "CHECKING" and [claim.signer for claim, _d in h.auth.checks] == [BOB]
    assert h.written() == [FrameType.AUTH]


def test_a_second_auth_while_the_first_is_held_is_a_violation() -> None:
    h = at("CLAIM_HELD").auth_frame()
    assert h.state == "CLOSING" and h.pool.violations == 1 and not h.conn.is_open


# -- the peer's proof -------------------------------------------------------------------------------


def test_a_malformed_auth_is_a_violation() -> None:
    h = at("OPEN").auth_frame(body=b"\x00\x05short")
    assert h.state == "CLOSING" and h.pool.violations == 1 and h.auth.checks == []


def test_an_auth_is_checked_and_sends_to_its_signer_wait_for_the_outcome() -> None:
    h = at("OPEN").auth_frame()
    assert h.state == "CHECKING" and [claim.signer for claim, _d in h.auth.checks] == [ALICE]
    assert h.conn.proving(CAROL) is None
    waiting = h.conn.proving(ALICE)
    assert waiting is not None and not waiting.called


def test_with_nothing_to_check_with_an_auth_leaves_the_connection_unbound() -> None:
    h = at("UNPROVED")
    assert h.conn.auth_claim is not None and h.conn.auth_claim.signer == ALICE
    assert ("bind", ALICE) not in h.pool.calls and h.conn.is_open and h.conn.proving(ALICE) is None


def test_a_dialler_that_proved_itself_is_bound_and_answered() -> None:
    h = at("CHECKING")
    waiting = h.conn.proving(ALICE)
    h.verify(ALICE)
    assert h.state == "ANSWERING" and h.conn.authenticated == ALICE and h.conn.account.trusted
    assert ("bind", ALICE) in h.pool.calls and [v for v, _d in h.auth.signs] == [ALICE]
    assert waiting is not None and waiting.called
    h.fire_sign()
    assert h.state == "PROVED" and h.written() == [FrameType.AUTH]


def test_the_peer_we_dialled_proving_itself_binds_the_connection_to_it() -> None:
    h = Harness("out").connect().hello().fire_sign().auth_frame().verify(BOB)
    assert h.state == "PROVED" and h.pool.calls[-1] == ("bind", BOB) and h.conn.authenticated == BOB


def test_someone_else_proving_itself_on_our_dial_binds_nothing() -> None:
    h = Harness("out").connect().hello().fire_sign().auth_frame(signer=CAROL).verify(CAROL)
    assert h.state == "PROVED" and h.conn.authenticated == CAROL
    assert not any(call[0] == "bind" for call in h.pool.calls) and h.conn.is_open


def test_a_forged_proof_drops_the_connection() -> None:
    h = at("CHECKING")
    waiting = h.conn.proving(ALICE)
    h.refuse(AuthFailed("bad signature", hostile=True))
    assert h.state == "CLOSING" and h.pool.auth_refused == 1 and h.pool.violations == 1
    assert h.wire.disconnected and waiting is not None and waiting.called


def test_a_proof_that_proves_nothing_leaves_the_connection_open_and_unbound() -> None:
    h = at("CHECKING").refuse(AuthFailed("identity not available"))
    assert h.state == "UNPROVED" and h.pool.auth_refused == 1 and h.pool.violations == 0 and h.conn.is_open


def test_a_check_that_broke_is_logged_not_counted() -> None:
    h = at("CHECKING").refuse(RuntimeError("worker thread died"))
    assert h.state == "UNPROVED" and h.pool.auth_refused == 0 and h.conn.is_open


@pytest.mark.parametrize("state", ["CHECKING", "ANSWERING", "PROVED", "UNPROVED"])
def test_a_second_auth_is_a_violation(state: str) -> None:
    h = at(state).auth_frame()
    assert h.state == "CLOSING" and h.pool.violations == 1 and not h.conn.is_open


# -- closing and closed -------------------------------------------------------------------------------

OPEN_STATES = ["GREETING", "PROVING", "CLAIM_HELD", "OPEN", "CHECKING", "ANSWERING", "PROVED", "UNPROVED"]


@pytest.mark.parametrize("state", OPEN_STATES)
@pytest.mark.parametrize("how", ["goodbye-sent", "goodbye-received", "dropped"])
def test_any_end_of_being_open_is_closing(state: str, how: str) -> None:
    h = at(state)
    if how == "goodbye-sent":
        h.conn.close(frames.GOODBYE_SHUTDOWN)
    elif how == "goodbye-received":
        h.conn.dataReceived(encode_frame(FrameType.GOODBYE, 0, frames.GOODBYE_IDLE))
    else:
        h.conn.report_garbage("bad packet")
        h.conn.report_garbage("bad packet")
        h.conn.report_garbage("bad packet")
    assert h.state == "CLOSING" and not h.conn.is_open


def test_our_proof_signed_after_closing_writes_nothing_and_held_packets_fail() -> None:
    h = at("PROVING")
    sent: list[Any] = []
    h.conn.send_packet(b"first").addBoth(sent.append)
    h.conn.close(frames.GOODBYE_SHUTDOWN)
    h.fire_sign()
    assert h.state == "CLOSING" and h.written() == [FrameType.GOODBYE]
    assert len(sent) == 1 and isinstance(sent[0], Failure) and sent[0].check(NotConnected)


def test_a_proof_verified_after_closing_binds_nothing_but_releases_the_waiting_sends() -> None:
    h = at("CHECKING")
    waiting = h.conn.proving(ALICE)
    h.closing().verify(ALICE)
    assert h.state == "CLOSING" and not any(call[0] == "bind" for call in h.pool.calls)
    assert h.conn.authenticated is None and waiting is not None and waiting.called


def test_a_proof_refused_after_closing_is_counted_but_drops_nothing_more() -> None:
    h = at("CLOSING").refuse(AuthFailed("bad signature", hostile=True))
    assert h.state == "CLOSING" and h.pool.auth_refused == 1 and h.pool.violations == 0


@pytest.mark.parametrize("state", [*OPEN_STATES, "CLOSING"])
def test_the_socket_closing_releases_everything_and_tells_the_pool(state: str) -> None:
    h = at(state)
    held: list[Any] = []
    if not h.conn.ready and h.conn.is_open:
        h.conn.send_packet(b"held").addBoth(held.append)
    waiting = h.conn.proving(h.peer)
    h.lose()
    assert h.state == "CLOSED" and h.pool.calls[-1] == ("closed",)
    assert all(isinstance(result, Failure) and result.check(NotConnected) for result in held)
    assert waiting is None or waiting.called


def test_a_proof_refused_after_the_socket_closed_is_still_counted() -> None:
    h = at("CHECKING").lose().refuse(AuthFailed("identity not available"))
    assert h.state == "CLOSED" and h.pool.auth_refused == 1
