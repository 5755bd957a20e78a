"""Whom fire_hire fires: a pure function of the positions as they stand, kept apart to be read and tested alone."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import attrs


@attrs.frozen
class Seat:
    """One filled position as the decision sees it: the supplier, its connector's state, and how long
    its contact has been offline (None while it is online)."""

    idurl: str
    state: str
    offline_for: float | None


def fire_reason(seat: Seat, *, offline_seconds: float, replace_requested: bool) -> str | None:
    """Why ``seat``'s supplier should go, or None when it stays."""
    if replace_requested:
        return "replaced by the user"
    if seat.state == "REFUSED":
        return "refused or rejected us"
    if seat.state == "NO_SERVICE":
        return "gave no service"
    if seat.state != "CONNECTED" and seat.offline_for is not None and seat.offline_for >= offline_seconds:
        return f"offline for {seat.offline_for:g} s"
    return None


def choose_fired(
    seats: Sequence[Seat | None], *, offline_seconds: float, replace: Collection[int], tolerated: int
) -> list[tuple[int, str]]:
    """The positions to fire now, lowest first, with the reason each goes.

    At most ``tolerated`` positions may be empty at once (the ECC map still rebuilds a block with
    the rest), so the positions empty already use up part of that budget; a supplier over budget
    waits for the next decision.
    """
    budget = tolerated - sum(1 for seat in seats if seat is None)
    fired: list[tuple[int, str]] = []
    for position, seat in enumerate(seats):
        if budget <= len(fired):
            break
        if seat is None:
            continue
        reason = fire_reason(seat, offline_seconds=offline_seconds, replace_requested=position in replace)
        if reason is not None:
            fired.append((position, reason))
    return fired


def offline_deadline(seat: Seat, *, offline_seconds: float) -> float | None:
    """In how many seconds ``seat`` would be fired for being offline, None when it is not going to be."""
    if seat.state == "CONNECTED" or seat.offline_for is None:
        return None
    return max(0.0, offline_seconds - seat.offline_for)
