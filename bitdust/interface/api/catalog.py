"""Every API module of the engine, in one list: the registry, OpenAPI and CLI read it."""

from __future__ import annotations

import importlib
from types import ModuleType

from bitdust.interface.api.spec import MethodSpec, specs_of

API_MODULES = (
    "bitdust.interface.api.process",
    "bitdust.interface.api.config",
    "bitdust.interface.api.services",
    "bitdust.interface.api.events",
    "bitdust.interface.api.automats",
    "bitdust.interface.api.identity",
    "bitdust.interface.api.keys",
    "bitdust.interface.api.files",
    "bitdust.interface.api.network",
    "bitdust.interface.api.dht",
    "bitdust.interface.api.family",
    "bitdust.interface.api.customers",
    "bitdust.interface.api.suppliers",
)


def api_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in API_MODULES]


def all_specs() -> list[MethodSpec]:
    return [spec for module in api_modules() for spec in specs_of(module)]
