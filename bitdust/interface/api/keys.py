"""API methods of the key registry (service_keys_registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.crypt.key_id import ALIAS_MAX_LENGTH, ALIAS_PATTERN
from bitdust.crypt.rsa_key import KEY_SIZES
from bitdust.interface.api.constraints import one_of, text
from bitdust.interface.api.spec import api_method
from bitdust.main.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from bitdust.crypt.key_registry import KeyRecord, KeyRegistry
    from bitdust.node.engine import NodeEngine

_PRIVATE = "also return the private key (PEM text); it never leaves this machine otherwise"


def registry(engine: NodeEngine) -> KeyRegistry:
    """The key registry, once service_keys_registry runs (it loads the keys from disk)."""
    if not engine.services.is_on("service_keys_registry"):
        raise Unavailable("service_keys_registry is not running; start it with service_start")
    return engine.keys


@api_method(
    "GET",
    "key/get/v1",
    params={"key_id": "e.g. abcd1234$alice@host", "include_private": _PRIVATE},
    constraints={"key_id": text()},
    answers=(404, 503),
)
def key_get(engine: NodeEngine, key_id: str, include_private: bool = False) -> dict[str, Any]:
    """Details of one registered key."""
    return registry(engine).get(key_id).to_json(include_private=include_private)


@api_method("GET", "key/list/v1", params={"sort": "sort by key id", "include_private": _PRIVATE}, answers=(503,))
def keys_list(engine: NodeEngine, sort: bool = False, include_private: bool = False) -> list[dict[str, Any]]:
    """Every registered key, the master key first."""
    return [record.to_json(include_private=include_private) for record in registry(engine).list(sort=sort)]


@api_method(
    "POST",
    "key/create/v1",
    params={
        "key_alias": "lowercase letters, digits, _ and -, at most 50 characters",
        "key_size": "1024, 2048 or 4096; default from personal/private-key-size",
        "label": "free text shown in user interfaces",
        "include_private": _PRIVATE,
    },
    constraints={
        "key_alias": text(
            1,
            ALIAS_MAX_LENGTH,
            ALIAS_PATTERN,
            explain=f"a key alias is 1 to {ALIAS_MAX_LENGTH} lowercase letters, digits, '_' or '-'",
        ),
        "key_size": one_of(*KEY_SIZES),
    },
    answers=(503,),
    links={name: {"key_id": "key_id"} for name in ("key_get", "key_label", "key_erase")},
)
def key_create(
    engine: NodeEngine, key_alias: str, key_size: int | None = None, label: str = "", include_private: bool = False
) -> defer.Deferred[dict[str, Any]]:
    """Generate a new RSA key and register it as key_alias$<my global id>.

    Bad or duplicate aliases, sizes other than 1024/2048/4096 and a node without an identity
    answer 400 before any key is generated.
    """
    keys = registry(engine)
    size = key_size if key_size is not None else engine.config.get("personal/private-key-size")
    if size not in KEY_SIZES:
        raise InvalidInput(f"key size {size} is not allowed: use 1024, 2048 or 4096")
    d = engine.run_blocking(keys.create, key_alias, size=size, label=label)

    def created(record: KeyRecord) -> dict[str, Any]:
        engine.events.send("key-generated", {"key_id": record.key_id})
        return record.to_json(include_private=include_private)

    return d.addCallback(created)


@api_method(
    "POST",
    "key/label/v1",
    params={"key_id": "the key to relabel", "label": "new label"},
    constraints={"key_id": text()},
    answers=(404, 503),
)
def key_label(engine: NodeEngine, key_id: str, label: str) -> defer.Deferred[dict[str, Any]]:
    """Set a new label for a key (the master key's label is fixed)."""
    keys = registry(engine)
    keys.get(key_id)  # 404 before any work

    def relabelled(record: KeyRecord) -> dict[str, Any]:
        engine.events.send("key-renamed", {"key_id": record.key_id, "label": record.label})
        return record.to_json()

    return engine.run_blocking(keys.label, key_id, label).addCallback(relabelled)


@api_method(
    "DELETE",
    "key/erase/v1",
    params={"key_id": "the key to forget and delete from disk"},
    constraints={"key_id": text()},
    answers=(404, 503),
)
def key_erase(engine: NodeEngine, key_id: str) -> defer.Deferred[dict[str, Any]]:
    """Unregister a key and erase its file (never the master key)."""
    keys = registry(engine)
    keys.get(key_id)  # 404 and the master-key refusal happen in erase(); this gives 404 at once

    def erased(removed: KeyRecord) -> dict[str, Any]:
        engine.events.send("key-erased", {"key_id": removed.key_id})
        return removed.to_json()

    return engine.run_blocking(keys.erase, key_id).addCallback(erased)
