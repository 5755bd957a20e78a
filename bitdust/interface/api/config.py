"""API methods over the engine's configuration (``engine.config``).

Values are passed through to the option's type unparsed (the ``value`` parameter is ``Any``), so
``12`` and ``"12"`` both set ``logs/debug-level``; results carry values in their JSON form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.interface.api.constraints import text
from bitdust.interface.api.spec import api_method
from bitdust.main.errors import NotFound

if TYPE_CHECKING:
    from bitdust.main.engine import Engine

_INCLUDE_INFO = "also return type, default, label (description) and readonly of each option"


def _entry(config: Any, key: str, include_info: bool) -> dict[str, Any]:
    if include_info:
        return config.info(key)
    return {"key": key, "value": config.json_value(key)}


@api_method(
    "GET",
    "config/get/v1",
    params={
        "key": "option key such as logs/debug-level, or a folder such as logs",
        "include_info": _INCLUDE_INFO,
    },
    answers=(404,),
)
def config_get(engine: Engine, key: str, include_info: bool = False) -> list[dict[str, Any]]:
    """Returns current key/value from the program settings.

    For an option the result is a list with one item, ``{"key", "value"}`` (plus ``type``,
    ``default``, ``label`` and ``readonly`` with ``include_info``), as the original's
    ``RESULT([toJson])``. For a folder (``logs``, ``interface/api``; an empty key is the root)
    it is the list of what lies directly under it: ``{"key", "childs"}`` where ``childs`` is true
    for a sub-folder; options in the list also carry ``value`` (and the info fields with
    ``include_info``). An unknown key answers 404.
    """
    config = engine.config
    key = key.strip("/")
    if key in config:
        return [_entry(config, key, include_info)]
    if not config.is_folder(key):
        raise NotFound(f"option {key} not found")
    result = []
    for child in config.children(key):
        if config.is_folder(child):
            result.append({"key": child, "childs": True})
        else:
            result.append({**_entry(config, child, include_info), "childs": False})
    return result


@api_method(
    "POST",
    "config/set/v1",
    params={
        "key": "option key such as logs/debug-level",
        "value": 'new value, as a JSON value or its text form (true, 12, "10 MB", "a,b")',
    },
    constraints={"key": text()},
    answers=(404,),
)
def config_set(engine: Engine, key: str, value: Any) -> defer.Deferred[list[dict[str, Any]]]:
    """Set a value for given key option.

    The value is checked against the option's type first; a wrong type or an out-of-range value
    answers 400 naming the key and what was expected, and changes nothing. The result is a list
    with one item, ``{"key", "value", "type", "default", "label", "readonly", "old_value"}``, as
    the original returned it. Setting the current value again succeeds without a change event.
    """

    def as_list(info: dict[str, Any]) -> list[dict[str, Any]]:
        return [info]

    return engine.config.set_async(key.strip("/"), value, engine.run_blocking).addCallback(as_list)


@api_method(
    "GET",
    "config/list/v1",
    params={"sort": "sort the options by key instead of definition order", "include_info": _INCLUDE_INFO},
)
def configs_list(engine: Engine, sort: bool = False, include_info: bool = False) -> list[dict[str, Any]]:
    """Provide detailed info about all program settings.

    A list of ``{"key", "value"}`` for every option (plus ``type``, ``default``, ``label`` and
    ``readonly`` with ``include_info``), in definition order or sorted by key.
    """
    config = engine.config
    keys = sorted(config.keys()) if sort else config.keys()
    return [_entry(config, key, include_info) for key in keys]


@api_method("GET", "config/tree/v1", params={"include_info": _INCLUDE_INFO})
def configs_tree(engine: Engine, include_info: bool = False) -> dict[str, Any]:
    """Returns all options as a tree structure, can be more suitable for UI operations.

    Folders are nested objects keyed by key segment (``{"logs": {"debug-level": 0, ...}}``);
    leaves are the option's JSON value, or its ``{"key", "value", "type", "default", "label",
    "readonly"}`` info with ``include_info``.
    """
    return engine.config.tree(include_info=include_info)
