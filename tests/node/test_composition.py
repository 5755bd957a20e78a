"""The composition module decides what a node is made of; the Engine core only receives it."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet import task

from bitdust.main.engine import Engine
from bitdust.node import composition
from bitdust.services.identity_part import IdentityPart
from bitdust.services.network_part import P2PPart


def test_the_engine_core_has_no_default_composition(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="service_factories"):
        Engine(tmp_path / "node", reactor=task.Clock())  # type: ignore[call-arg]


def test_create_engine_builds_the_real_node(tmp_path: Path) -> None:
    engine = composition.create_engine(tmp_path / "node", reactor=task.Clock())
    assert [type(part) for part in engine.parts] == [IdentityPart, P2PPart]
    engine.after_local()  # registers the services by name, as the initializer does
    names = [factory(engine).name for factory in composition.default_service_factories()]
    assert "service_entangled_dht" in names
    assert sorted(engine.services.names()) == sorted(names)


def test_a_test_replaces_only_what_it_names(tmp_path: Path) -> None:
    engine = composition.create_engine(tmp_path / "node", reactor=task.Clock(), service_factories=[], node_parts=[])
    assert engine.parts == ()
    engine.after_local()
    assert list(engine.services.names()) == []
