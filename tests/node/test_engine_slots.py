"""The Engine says what it holds: every attribute is declared on its class, none invented at run time.

Parts and services used to fasten attributes onto the engine (``keys``, ``p2p``, ``catalog`` ...)
that no class declared, so a reader could not find what ``engine.p2p.gateway`` was. Now the core
declares its own attributes, ``NodeEngine`` declares a typed slot per part, ``__setattr__``
refuses anything else, and no parameter in the package is an ``engine: Any``.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_twisted
from twisted.application.service import Service
from twisted.internet import task

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.main.engine import Engine, UndeclaredSlot
from bitdust.main.errors import Unavailable
from bitdust.node.composition import create_engine
from bitdust.node.engine import MissingPart, NodeEngine
from bitdust.services.identity_part import IdentityPart, NodeIdentity
from bitdust.services.network_part import P2PHub
from bitdust.storage.catalog import Catalog
from bitdust.testing.network import Network, start_network
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.local_identity import LocalIdentity

ROOT = Path(__file__).resolve().parents[2]


def annotated(cls: type) -> set[str]:
    """The attribute names ``cls`` and its bases annotate, and the fields of Twisted's ``Service``.

    ``Service`` declares ``name``, ``parent`` and ``running`` as class attributes, unannotated.
    """
    names = {name for klass in cls.__mro__ for name in vars(klass).get("__annotations__", {})}
    return names | {name for name in vars(Service) if not name.startswith("__")}


@pytest_twisted.async_yield_fixture
async def network(tmp_path: Path) -> AsyncIterator[Network]:
    net = await start_network(tmp_path / "net", nodes=1, id_servers=1, dht_seeds=1)
    try:
        yield net
    finally:
        await net.stop()


def test_an_engine_refuses_an_attribute_its_class_does_not_declare(tmp_path: Path) -> None:
    engine = create_engine(tmp_path / "node", reactor=task.Clock(), service_factories=[], node_parts=[])
    with pytest.raises(UndeclaredSlot, match="'made_up'"):
        engine.made_up = 1  # type: ignore[attr-defined]  # the point: no such attribute is declared
    assert "made_up" not in vars(engine)
    engine.run_blocking = lambda fn, *a, **kw: fn(*a, **kw)  # type: ignore[method-assign]  # a declared name: allowed


@pytest_twisted.ensureDeferred
async def test_after_a_full_start_every_attribute_of_every_engine_is_annotated(network: Network) -> None:
    for member in network.members:
        engine = member.require_engine()
        assert isinstance(engine, NodeEngine)
        assert set(vars(engine)) - annotated(type(engine)) == set(), member.name
        assert isinstance(engine.identity, NodeIdentity) and isinstance(engine.network, P2PHub)
    node = network.nodes[0].require_engine()
    assert isinstance(node, NodeEngine) and isinstance(node.catalog, Catalog)  # service_backup_db is ON
    assert node.p2p is node.network and node.p2p.gateway is not None and node.p2p.tcp is not None
    assert node.identity is not None and node.keys is node.identity.keys


def test_the_part_slots_are_typed_and_start_empty(tmp_path: Path) -> None:
    declared = NodeEngine.__annotations__  # strings: the part classes are named under TYPE_CHECKING
    assert (declared["identity"], declared["network"], declared["catalog"]) == (
        "NodeIdentity | None",
        "P2PHub | None",
        "Catalog | None",
    )
    engine = create_engine(tmp_path / "node", reactor=task.Clock(), service_factories=[], node_parts=[IdentityPart()])
    assert engine.network is None and engine.catalog is None
    assert isinstance(engine.keys, KeyRegistry) and isinstance(engine.local_identity, LocalIdentity)
    assert isinstance(engine.identity_cache, IdentityCache)
    with pytest.raises(MissingPart, match="p2p"):
        _ = engine.p2p
    assert getattr(engine, "p2p", None) is None  # MissingPart is an AttributeError: getattr's default still works


def test_an_engine_without_parts_has_empty_slots(tmp_path: Path) -> None:
    engine = create_engine(tmp_path / "node", reactor=task.Clock(), service_factories=[], node_parts=[])
    assert (engine.identity, engine.network, engine.catalog) == (None, None, None)
    with pytest.raises(MissingPart, match="identity part"):
        _ = engine.keys


def test_the_core_engine_annotates_everything_its_constructor_sets(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "node", reactor=task.Clock(), service_factories=[], node_parts=[], local_api=None)  # type: ignore[arg-type]  # never started
    assert set(vars(engine)) - annotated(Engine) == set()


def _engine_any_parameters(root: Path) -> list[str]:
    """``file:line`` of every parameter named ``engine`` annotated ``Any`` under ``root/bitdust``."""
    found = []
    for path in sorted((root / "bitdust").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.arg) and node.arg == "engine" and node.annotation is not None:
                if ast.unparse(node.annotation) in ("Any", "typing.Any"):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_parameter_is_an_engine_of_type_any() -> None:
    assert _engine_any_parameters(ROOT) == []


def test_the_any_check_finds_one(tmp_path: Path) -> None:
    (tmp_path / "bitdust").mkdir()
    (tmp_path / "bitdust" / "x.py").write_text("from typing import Any\n\n\ndef f(engine: Any) -> None:\n    pass\n")
    assert _engine_any_parameters(tmp_path) == ["bitdust/x.py:4"]


def test_the_hub_names_the_service_that_fills_each_empty_slot(tmp_path: Path) -> None:
    engine = create_engine(tmp_path / "node", reactor=task.Clock(), service_factories=[])
    hub = engine.p2p
    expected = {
        hub.require_gateway: "service_gateway",
        hub.require_contacts: "service_p2p_hookups",
        hub.require_connector: "service_network",
        hub.require_tcp: "service_tcp_connections",
    }
    for require, service in expected.items():
        with pytest.raises(Unavailable, match=service):
            require()
