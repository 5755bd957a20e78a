"""Publishing our nickname: the first position ``nickname:N`` that is free or already ours.

A nickname record lives :data:`~bitdust.dht.records.NICKNAME_LIFETIME` after its signed
timestamp, so the owner signs it again every :data:`NICKNAME_REFRESH` seconds; a key that stops
doing so loses its position, and a squatter has to keep signing to keep one. Position N is ours
only after N other users: the record carries their signed claims (``taken``), copied from the
records found at positions 0..N-1, so one key can never hold two positions of one nickname.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from bitdust.dht.errors import RecordError
from bitdust.dht.records import NICKNAME_LIFETIME, NICKNAME_POSITIONS, canonical_json, nickname_claim

NICKNAME_REFRESH = NICKNAME_LIFETIME // 3

# sign(key, record) fires with the record signed by our identity key (off the reactor thread).
Signer = Callable[[str, dict[str, Any]], "defer.Deferred[dict[str, Any]]"]


@defer.inlineCallbacks
def publish_nickname(node: Any, nickname: str, idurl: str, sign: Signer, log: Logger | None = None) -> Any:
    """Fires with ``{"state": "published", "position": N, ...}`` or ``{"state": "failed", ...}``.

    ``node`` is a :class:`~bitdust.dht.node.DhtNode`; positions held by others (valid, signed,
    alive records: the lookup ignores anything else) are skipped and their claims collected.
    """
    log = log or Logger()
    taken: list[dict[str, Any]] = []
    for position in range(NICKNAME_POSITIONS):
        key = f"{nickname}:{position}"
        found = yield node.get_value(key, 0, "nickname")
        holder = found.value.record if found.value is not None else None
        if holder is not None and holder.get("idurl") != idurl:
            taken.append(nickname_claim(holder))
            continue
        record = {
            "type": "nickname",
            "nickname": nickname,
            "idurl": idurl,
            "position": position,
            "timestamp": int(node.clock.seconds()),
            "taken": list(taken),
        }
        signed = yield sign(key, record)
        try:
            outcome = yield node.set_value(key, canonical_json(signed), 0, "nickname", NICKNAME_LIFETIME)
        except RecordError as exc:
            log.info("nickname position {key} refused: {reason}", key=key, reason=exc.message)
            return {"state": "failed", "nickname": nickname, "reason": exc.message}
        if outcome.success:
            log.info("nickname {key} published", key=key)
            return {"state": "published", "nickname": nickname, "position": position, "key": key}
        # Somebody took it between our read and our store: their claim is what we need next time.
        log.info("nickname position {key} refused by the network: {refused}", key=key, refused=outcome.refused)
        return {"state": "failed", "nickname": nickname, "reason": f"{key} refused: {outcome.refused}"}
    return {"state": "failed", "nickname": nickname, "reason": "no free position"}
