"""API methods of the DHT (service_entangled_dht): values, nodes, random users, nicknames."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.dht.layer import LAYERS, check_layer
from bitdust.dht.lookup import LookupResult
from bitdust.dht.node import DhtNode
from bitdust.dht.node_id import MAX_KEY_LENGTH, check_key, decode_id, encode_id
from bitdust.dht.records import RECORD_TYPES, encode_record, make_record, record_type
from bitdust.interface.api.constraints import between, one_of, text
from bitdust.interface.api.spec import api_method
from bitdust.main import strict_json
from bitdust.main.errors import InvalidInput, Unavailable
from bitdust.services.service_entangled_dht import MAX_NICKNAME_POSITIONS, dht_service
from bitdust.userid.idurl import IdUrl

if TYPE_CHECKING:
    from bitdust.dht.lookup import LookupResult
    from bitdust.node.engine import NodeEngine

_LAYER = "DHT layer 0-9: 0 base, 1 identity servers, 2 proxy routers, 3 suppliers, 4 rebuilders, ..."
_TYPES = "record type: " + ", ".join(RECORD_TYPES)
MAX_RANDOM_USERS = 100
_LAYER_ID = between(min(LAYERS), max(LAYERS))
_RECORD_TYPE = one_of(*RECORD_TYPES)
_KEY = text(max_length=MAX_KEY_LENGTH)
_NICKNAME = text(max_length=64, pattern="[^:]{1,64}", explain="a nickname is 1 to 64 characters without ':'")
_ATTEMPTS = between(1, MAX_NICKNAME_POSITIONS)


def _node(engine: NodeEngine) -> DhtNode:
    service = dht_service(engine)
    node = service.node if service is not None else None
    if node is None:
        raise Unavailable("service_entangled_dht is not running; start it with service_start")
    return node


def _closest(result: LookupResult | None) -> list[dict[str, Any]]:
    if result is None:
        return []
    return [{"dht_id": encode_id(c.node_id), "address": f"{c.host}:{c.port}"} for c in result.closest]


def _user(idurl: str) -> dict[str, Any]:
    try:
        parsed = IdUrl.parse(idurl)
    except InvalidInput:
        return {"idurl": idurl or None, "global_id": None}
    return {"idurl": parsed.url, "global_id": parsed.global_id}


@api_method(
    "GET",
    "dht/node/find/v1",
    params={"node_id_64": "node id to look up (base64 or 40 hex digits); empty: a random id", "layer_id": _LAYER},
    constraints={"layer_id": _LAYER_ID},
    answers=(503,),
)
def dht_node_find(
    engine: NodeEngine, node_id_64: str | None = None, layer_id: int = 0
) -> defer.Deferred[dict[str, Any]]:
    """The live nodes nearest to a node id on a layer (an iterative FIND_NODE lookup)."""
    node = _node(engine)
    layer = check_layer(layer_id)
    target = decode_id(node_id_64) if node_id_64 else node.random_id()

    def found(result: LookupResult) -> dict[str, Any]:
        return {"my_dht_id": encode_id(node.node_id), "lookup": encode_id(target), "closest_nodes": _closest(result)}

    def lookup(_: None) -> defer.Deferred[LookupResult]:
        return node.find_node(target, layer)

    return node.ensure_layer(layer).addCallback(lookup).addCallback(found)


@api_method(
    "GET",
    "dht/user/random/v1",
    params={"layer_id": _LAYER, "count": f"how many users, 1 to {MAX_RANDOM_USERS}"},
    constraints={"layer_id": _LAYER_ID, "count": between(1, MAX_RANDOM_USERS)},
    answers=(503,),
)
def dht_user_random(engine: NodeEngine, layer_id: int = 0, count: int = 1) -> defer.Deferred[list[dict[str, Any]]]:
    """Random live nodes attached to a layer (e.g. layer 3: suppliers), as they answered just now."""
    node = _node(engine)
    layer = check_layer(layer_id)
    if not 1 <= count <= MAX_RANDOM_USERS:
        raise InvalidInput(f"count must be 1 to {MAX_RANDOM_USERS}")

    def listed(responders: list[Any]) -> list[dict[str, Any]]:
        users = []
        for responder in responders:
            item = _user(responder.idurl)
            item.update(
                dht_id=encode_id(responder.contact.node_id),
                address=f"{responder.contact.host}:{responder.contact.port}",
                layer_id=layer,
            )
            users.append(item)
        return users

    return node.random_nodes(layer, count).addCallback(listed)


@api_method(
    "GET",
    "dht/value/get/v1",
    params={
        "key": "the key, e.g. alice:0",
        "record_type": _TYPES,
        "layer_id": _LAYER,
        "use_cache_ttl": "accept a value this node fetched at most this many seconds ago",
    },
    constraints={"key": _KEY, "record_type": _RECORD_TYPE, "layer_id": _LAYER_ID, "use_cache_ttl": between(0)},
    answers=(503,),
)
def dht_value_get(
    engine: NodeEngine,
    key: str,
    record_type: str = "skip_validation",
    layer_id: int = 0,
    use_cache_ttl: int | None = None,
) -> defer.Deferred[dict[str, Any]]:
    """Read a value: a record of ``record_type`` that passes that type's rules (others are ignored)."""
    node = _node(engine)
    check_key(key)
    kind = _record_type(record_type)
    layer = check_layer(layer_id)
    if use_cache_ttl is not None and use_cache_ttl < 0:
        raise InvalidInput("use_cache_ttl cannot be negative")

    def read(result: LookupResult) -> dict[str, Any]:
        answer: dict[str, Any] = {"my_dht_id": encode_id(node.node_id), "key": key}
        if result.value is None:
            answer.update(read="failed", closest_nodes=_closest(result))
            if result.refused_values:
                answer["refused"] = result.errors
        else:
            answer.update(read="success", value=result.value.record, expires_in=result.value.ttl)
        return answer

    def lookup(_: None) -> defer.Deferred[LookupResult]:
        return node.get_value(key, layer, kind, use_cache_ttl)

    return node.ensure_layer(layer).addCallback(lookup).addCallback(read)


@api_method(
    "POST",
    "dht/value/set/v1",
    params={
        "key": "the key, e.g. alice:0",
        "value": "a JSON object (its type field is set to record_type); skip_validation takes any JSON",
        "expire": "seconds the value lives; default services/entangled-dht/default-expire-seconds",
        "record_type": _TYPES,
        "layer_id": _LAYER,
    },
    constraints={"key": _KEY, "expire": between(1), "record_type": _RECORD_TYPE, "layer_id": _LAYER_ID},
    answers=(503,),
    links={"dht_value_get": {"key": "key"}},
)
def dht_value_set(
    engine: NodeEngine,
    key: str,
    value: Any,
    expire: int | None = None,
    record_type: str = "skip_validation",
    layer_id: int = 0,
) -> defer.Deferred[dict[str, Any]]:
    """Store a value on the nodes nearest to its key; a record that breaks its type's rules is a 400."""
    node = _node(engine)
    check_key(key)
    kind = _record_type(record_type)
    layer = check_layer(layer_id)
    if expire is not None and expire <= 0:
        raise InvalidInput("expire must be a positive number of seconds")
    if isinstance(value, str):
        try:
            value = strict_json.loads(value)
        except strict_json.NotStrictJson:
            if kind != "skip_validation":
                raise InvalidInput(f"value of a {kind} record must be a JSON object") from None
    record = make_record(kind, value)
    data = encode_record(record)

    def written(outcome: Any) -> dict[str, Any]:
        answer = {
            "write": "success" if outcome.success else "failed",
            "my_dht_id": encode_id(node.node_id),
            "key": key,
            "value": record,
            "stored_on": len(outcome.stored_on),
            "closest_nodes": [
                {"dht_id": encode_id(c.node_id), "address": f"{c.host}:{c.port}"} for c in outcome.closest
            ],
        }
        if outcome.refused:
            answer["errors"] = outcome.refused
        return answer

    d = node.ensure_layer(layer)
    d.addCallback(lambda _: node.set_value(key, data, layer, kind, expire))
    return d.addCallback(written)


@api_method("GET", "dht/db/dump/v1", answers=(503,))
def dht_local_db_dump(engine: NodeEngine) -> defer.Deferred[list[dict[str, Any]]]:
    """Every value this node stores, on every layer (with the time each has left).

    A value that is not a strict JSON record (left by an older version) is left out, with a log
    line, so one bad value cannot make the whole dump unreadable.
    """
    return _node(engine).dump_values(engine.run_blocking)


def _record_type(name: str) -> str:
    return record_type(name).name


def _nickname(nickname: str) -> str:
    if (
        not isinstance(nickname, str)
        or not nickname
        or len(nickname) > 64
        or ":" in nickname
        or not nickname.isprintable()
    ):
        raise InvalidInput("a nickname is 1 to 64 printable characters without ':'")
    return nickname


def _attempts(attempts: int) -> int:
    if not 1 <= attempts <= MAX_NICKNAME_POSITIONS:
        raise InvalidInput(f"attempts must be 1 to {MAX_NICKNAME_POSITIONS}")
    return attempts


@defer.inlineCallbacks
def _positions(
    engine: NodeEngine, nickname: str, attempts: int, first_only: bool
) -> Generator[defer.Deferred[LookupResult], LookupResult, list[dict[str, Any]]]:
    node = _node(engine)
    found: list[dict[str, Any]] = []
    for position in range(attempts):
        result = yield node.get_value(f"{nickname}:{position}", 0, "nickname")
        if result.value is None:
            continue
        record = result.value.record
        item = {"result": "exist", "nickname": nickname, "position": position}
        item.update(_user(record["idurl"]))
        found.append(item)
        if first_only:
            break
    return found


@api_method(
    "GET",
    "user/search/v1",
    params={
        "nickname": "the name to find",
        "attempts": f"how many positions nickname:0, nickname:1, ... to try (1-{MAX_NICKNAME_POSITIONS})",
    },
    constraints={"nickname": _NICKNAME, "attempts": _ATTEMPTS},
    answers=(503,),
)
def user_search(engine: NodeEngine, nickname: str, attempts: int = 1) -> defer.Deferred[dict[str, Any]]:
    """The first user who published ``nickname`` in the DHT (signed nickname records)."""
    _node(engine)
    nickname, attempts = _nickname(nickname), _attempts(attempts)

    def first(found: list[dict[str, Any]]) -> dict[str, Any]:
        if found:
            return found[0]
        return {"result": "not exist", "nickname": nickname, "position": None, "global_id": None, "idurl": None}

    return _positions(engine, nickname, attempts, first_only=True).addCallback(first)


@api_method(
    "GET",
    "user/observe/v1",
    params={"nickname": "the name to find", "attempts": f"how many positions to try (1-{MAX_NICKNAME_POSITIONS})"},
    constraints={"nickname": _NICKNAME, "attempts": _ATTEMPTS},
    answers=(503,),
)
def user_observe(engine: NodeEngine, nickname: str, attempts: int = 3) -> defer.Deferred[list[dict[str, Any]]]:
    """Every user who published ``nickname`` (two users may share one, at different positions)."""
    _node(engine)
    return _positions(engine, _nickname(nickname), _attempts(attempts), first_only=False)
