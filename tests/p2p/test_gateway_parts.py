"""The parts the gateway and the replay guard are built from, each alone, and their sizes.

``gateway.py`` (595 lines) and ``replay.py`` (434 lines) were split by responsibility: the outbox,
the cheap inbound checks, the creator lookups, the answer memory, the ``packets_list`` rows, and
the replay state handed across a restart. Each is tested here without a gateway around it.
"""

from __future__ import annotations

import pytest
from twisted.internet import defer, task
from twisted.python.failure import Failure

from bitdust.p2p import commands
from bitdust.p2p.answers import AnswerMemory
from bitdust.p2p.creator_lookups import CreatorLookups
from bitdust.p2p.errors import PacketError
from bitdust.p2p.gateway import NO_ACK, Gateway, Handler, Refused, Transport
from bitdust.p2p.inbound_checks import Refusal, precheck, verify_refusal
from bitdust.p2p.outbox import Outbox
from bitdust.p2p.packet import Limits, Packet
from bitdust.p2p.packet_out import PacketOutGateway
from bitdust.p2p.packet_rows import incoming_row, outgoing_row
from bitdust.p2p.replay import ReplayGuard, Stamped
from bitdust.p2p.replay_state import NO_FLOOR, ReplayState, live_creators
from bitdust.userid.errors import IdentityFetchError
from bitdust.userid.identity import Identity
from tests.p2p.conftest import ALICE, BOB

LIMITS = Limits(max_skew=600, max_future_skew=60)


def make(command: str = commands.MESSAGE, *, owner: str = ALICE, remote: str = BOB, date: float = 1000.0) -> Packet:
    return Packet(command=command, owner_id=owner, creator_id=ALICE, packet_id="p1", date=date, remote_id=remote)


def test_what_other_code_imports_from_the_gateway_is_still_there() -> None:
    assert issubclass(Gateway, Outbox) and issubclass(Refused, Exception) and NO_ACK is not None
    assert Handler is not None and Transport is not None
    assert isinstance(_gateway(), PacketOutGateway)


def _gateway() -> Gateway:
    return Gateway(
        clock=task.Clock(),
        identity=lambda: None,
        signing_key=lambda: None,
        cache=_NoCache(),
        run_blocking=lambda fn, *args, **kwargs: defer.maybeDeferred(fn, *args, **kwargs),
    )


class _NoCache:
    def get(self, idurl: str) -> Identity | None:
        return None

    def fetch(self, idurl: str) -> defer.Deferred[Identity]:
        return defer.fail(IdentityFetchError("unknown", reason="http-status", url=idurl))


# -- inbound_checks -----------------------------------------------------------------------------


def test_precheck_passes_a_packet_for_us_in_the_window() -> None:
    assert precheck(make(), my_ids={BOB}, now=1000.0, limits=LIMITS) is None
    assert precheck(make(date=400.0), my_ids={BOB}, now=1000.0, limits=LIMITS) is None
    assert precheck(make(date=1060.0), my_ids={BOB}, now=1000.0, limits=LIMITS) is None


def test_precheck_refuses_a_packet_for_somebody_else_without_blaming_the_sender() -> None:
    refusal = precheck(make(remote="http://h.net/carol.xml"), my_ids={BOB}, now=1000.0, limits=LIMITS)
    assert refusal == Refusal("not-for-us", "Message is addressed to http://h.net/carol.xml", garbage=False)


@pytest.mark.parametrize("date", [399.0, 1060.5])
def test_precheck_refuses_a_date_outside_the_window_as_stale_not_garbage(date: float) -> None:
    refusal = precheck(make(date=date), my_ids={BOB}, now=1000.0, limits=LIMITS)
    assert refusal is not None and (refusal.label, refusal.garbage) == ("stale", False)
    assert refusal.reason == f"Message from {ALICE} is dated {date}"


def test_precheck_refuses_an_owner_who_is_not_the_creator_unless_the_command_allows_it() -> None:
    carol = "http://h.net/carol.xml"
    refusal = precheck(make(owner=carol), my_ids={BOB}, now=1000.0, limits=LIMITS)
    assert refusal == Refusal("owner-mismatch", f"Message from {ALICE} claims to be owned by {carol}", garbage=True)
    for command in commands.OWNER_MAY_DIFFER:
        assert precheck(make(command, owner=carol), my_ids={BOB}, now=1000.0, limits=LIMITS) is None


def test_precheck_checks_the_address_before_the_date() -> None:
    refusal = precheck(make(remote=ALICE, date=0.0), my_ids={BOB}, now=1000.0, limits=LIMITS)
    assert refusal is not None and refusal.label == "not-for-us"


def test_verify_refusal_says_whose_fault_a_failure_is() -> None:
    packet = make()
    bad = verify_refusal(Failure(PacketError("bad packet signature")), packet)
    assert bad == Refusal("bad-signature", f"Message from {ALICE}: bad packet signature", garbage=True)
    busy = verify_refusal(Failure(IdentityFetchError("too many", reason="busy")), packet)
    assert busy == Refusal("busy", f"identity of {ALICE} is not looked up now: too many", garbage=False)
    unknown = verify_refusal(Failure(IdentityFetchError("404", reason="http-status")), packet)
    assert unknown == Refusal("unknown-creator", f"identity of {ALICE} is not available: 404", garbage=True)
    other = verify_refusal(Failure(RuntimeError("boom")), packet)
    assert (other.label, other.garbage) == ("unknown-creator", True)


# -- creator_lookups ----------------------------------------------------------------------------


def test_lookups_are_bounded_per_address_and_released_when_done() -> None:
    lookups = CreatorLookups(max_per_address=2)
    fetches: list[tuple[str, defer.Deferred[Identity]]] = []

    def fetch(idurl: str) -> defer.Deferred[Identity]:
        d: defer.Deferred[Identity] = defer.Deferred()
        fetches.append((idurl, d))
        return d

    results: list[object] = []
    failures: list[Failure] = []
    lookups.fetch("1.2.3.4", "http://h.net/u1.xml", fetch).addCallbacks(results.append, failures.append)
    lookups.fetch("1.2.3.4", "http://h.net/u2.xml", fetch).addCallbacks(results.append, failures.append)
    # A creator already being fetched for this address is not one more (the cache joins the fetches).
    lookups.fetch("1.2.3.4", "http://h.net/u1.xml", fetch).addCallbacks(results.append, failures.append)
    busy: list[Failure] = []
    lookups.fetch("1.2.3.4", "http://h.net/u3.xml", fetch).addErrback(busy.append)
    assert busy and busy[0].check(IdentityFetchError) and busy[0].value.reason == "busy"
    assert [idurl for idurl, _ in fetches] == ["http://h.net/u1.xml", "http://h.net/u2.xml", "http://h.net/u1.xml"]
    # Another address has its own bound.
    lookups.fetch("5.6.7.8", "http://h.net/u3.xml", fetch).addCallbacks(results.append, failures.append)
    assert len(lookups) == 2

    fetches[0][1].callback("alice")
    fetches[2][1].callback("alice again")
    fetches[1][1].errback(IdentityFetchError("404", reason="http-status"))
    assert len(lookups) == 1
    fetches[3][1].errback(IdentityFetchError("404", reason="http-status"))
    assert len(lookups) == 0
    assert results == ["alice", "alice again"] and len(failures) == 2


def test_a_busy_answer_leaves_no_empty_entry_behind() -> None:
    lookups = CreatorLookups(max_per_address=0)
    failures: list[Failure] = []
    lookups.fetch("1.2.3.4", ALICE, lambda idurl: defer.Deferred()).addErrback(failures.append)
    assert failures[0].value.reason == "busy" and len(lookups) == 0


# -- answers ------------------------------------------------------------------------------------


def test_answer_memory_keeps_the_most_recently_set() -> None:
    memory = AnswerMemory(max_answers=2)
    memory.remember(ALICE, "a", None)
    assert memory.get(ALICE, "a") is None and len(memory) == 1
    memory.remember(ALICE, "a", (commands.ACK, b"ok"))
    memory.remember(ALICE, "b", (commands.FAIL, b"no"))
    memory.remember(ALICE, "a", (commands.ACK, b"again"))  # "a" is now the newest
    memory.remember(ALICE, "c", (commands.ACK, b""))
    assert len(memory) == 2
    assert memory.get(ALICE, "b") is None
    assert memory.get(ALICE, "a") == (commands.ACK, b"again") and memory.get(ALICE, "c") == (commands.ACK, b"")
    assert memory.get(BOB, "a") is None


# -- packet_rows --------------------------------------------------------------------------------


def test_rows_carry_the_original_field_names() -> None:
    info = {"remote_id": BOB, "state": "ACK_WAIT", "command": "Message", "packet_id": "p1", "timeout": 15.0}
    row = outgoing_row(info, in_flight=True)
    assert row["label"] == "out:Message:p1" and row["description"] == f"Message(p1) to {BOB}: ACK_WAIT"
    assert row["direction"] == "outgoing" and row["response_timeout"] == 15.0 and row["in_flight"] is True

    class Tcp:
        proto = "tcp"

    class Connection:
        owner = Tcp()
        host = "127.0.0.1"
        port = 7771

    row = incoming_row(make(), ALICE, 123, Connection(), 5.0)
    assert (row["proto"], row["host"], row["size"], row["received"]) == ("tcp", "127.0.0.1:7771", 123, 5.0)
    bare = incoming_row(make(), ALICE, 1, object(), 5.0)
    assert (bare["proto"], bare["host"]) == (None, None)


# -- replay_state and the guard's packet type ---------------------------------------------------


def test_live_creators_drop_what_expired_and_keep_floors() -> None:
    state = ReplayState(
        saved_at=1000.0,
        clean=True,
        floor_all=None,
        names=["old", "floored", "fresh"],
        floors=[None, 990.0, None],
        counts=[1, 1, 2],
        ids=["x", "under-floor", "y", "z"],
        dates=[100.0, 980.0, 995.0, 200.0],
    )
    live, floor_all = live_creators(state, now=1000.0, past=600.0, future=60.0)
    assert floor_all == NO_FLOOR
    assert live == {"floored": (990.0, {}), "fresh": (NO_FLOOR, {"y": 995.0})}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dates": [2000.0]}, "after the latest"),
        ({"dates": [float("nan")]}, "not a finite date"),
        ({"counts": [True]}, "not a number of ids"),
        ({"ids": []}, "do not match"),
        ({"names": ["a", "a"], "floors": [None, None], "counts": [1, 0]}, "listed twice"),
        ({"floor_all": float("inf")}, "not a finite date"),
    ],
)
def test_live_creators_refuse_a_state_no_guard_could_have_written(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "saved_at": 1000.0,
        "clean": True,
        "floor_all": None,
        "names": ["a"],
        "floors": [None],
        "counts": [1],
        "ids": ["x"],
        "dates": [999.0],
    }
    fields.update(changes)
    with pytest.raises(ValueError, match=message):
        live_creators(ReplayState(**fields), now=1000.0, past=600.0, future=60.0)


def test_the_guard_reads_only_the_three_stamp_fields() -> None:
    class Stamp:
        def __init__(self, packet_id: str, date: float) -> None:
            self.creator_id = ALICE
            self.packet_id = packet_id
            self.date = date

    clock = task.Clock()
    clock.advance(1000)
    guard = ReplayGuard(clock, 60, future_seconds=10)
    stamp: Stamped = Stamp("a", 1000.0)
    assert guard.check_and_remember(stamp) is False
    assert guard.seen(stamp) is True and guard.seen(make(date=1000.0)) is False
