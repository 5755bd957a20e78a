"""supplier_connector under random sequences of everything that can happen to it (hypothesis).

Strict mode makes any event the source neither handles nor ignores an error, so this also proves
the diagram complete for what callers can send; the invariants are checked after every step.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer

from bitdust.customer.errors import SupplierRefused
from bitdust.errors import Unreachable
from tests.customer.test_supplier_connector import SUPPLIER, Harness

STEPS = st.lists(
    st.one_of(
        st.sampled_from(["connect", "online", "offline", "accept", "refuse", "fail", "rejected", "close"]),
        st.floats(min_value=0.0, max_value=40.0).map(lambda seconds: f"advance:{seconds}"),
    ),
    max_size=40,
)


def answer(pending: list[tuple[str, defer.Deferred[int]]], index: int, how: str) -> None:
    """Answer one request still waiting (a late one included, when there are several)."""
    waiting = [d for _supplier, d in pending if not d.called]
    if not waiting:
        return
    d = waiting[index % len(waiting)]
    if how == "accept":
        d.callback(700)
    elif how == "refuse":
        d.errback(SupplierRefused(SUPPLIER, "not enough space"))
    else:
        d.errback(Unreachable("timeout"))


@given(STEPS, st.integers(min_value=0, max_value=3))
def test_any_sequence_keeps_the_connector_consistent(steps: list[str], pick: int) -> None:
    h = Harness(max_attempts=3)
    c = h.connector
    requests_at_close: int | None = None
    for step in steps:
        if step.startswith("advance:"):
            h.clock.advance(float(step.split(":")[1]))
        elif step == "connect":
            c.connect()
        elif step in ("online", "offline"):
            h.watcher.set_online(SUPPLIER, step == "online")
        elif step in ("accept", "refuse", "fail"):
            answer(h.requester.pending, pick, step)
        elif step == "rejected":
            c.rejected(reason="dropped")
        else:
            c.close()
            requests_at_close = len(h.requester.requests)
        assert c.state in c.STATES
        if c.state == "CONNECTED":
            assert c.allocated_bytes == 700 and c.problem is None
        if c.state == "REQUEST":
            assert sum(1 for _s, d in h.requester.pending if not d.called) >= 1
        if c.state == "CLOSED":
            assert c.destroyed and len(h.requester.requests) == requests_at_close
        ids = [e for e in h.events.ids() if e.startswith("supplier-")]
        assert ids == ["supplier-connected", "supplier-disconnected"] * (len(ids) // 2) + (
            ["supplier-connected"] if len(ids) % 2 else []
        )
        assert (ids[-1:] == ["supplier-connected"]) == (c.state == "CONNECTED")
