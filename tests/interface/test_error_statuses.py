"""The one table from domain errors to HTTP statuses, and that REST and WebSocket answer from it."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

import bitdust
from bitdust import errors
from bitdust.errors import KINDS, BitDustError, InvalidInput, Malformed, RemoteFailure
from bitdust.interface.api.registry import ApiRegistry
from bitdust.interface.api.spec import SPEC_ATTRIBUTE, api_method
from bitdust.interface.error_statuses import STATUSES, deciding_class, status_of

#: What the API answered each error with before the statuses moved out of the error classes
#: (their old ``http_code``; the kinds under their old names where they had one). The table must
#: keep every one of them.
STATUSES_BEFORE = {
    "bitdust.automats.errors.AutomatSourceError": 500,
    "bitdust.automats.errors.GraphvizFailed": 500,
    "bitdust.automats.errors.GraphvizMissing": 503,
    "bitdust.automats.errors.UnknownEventError": 500,
    "bitdust.crypt.errors.CryptError": 500,
    "bitdust.crypt.errors.KeyFormatError": 400,
    "bitdust.dht.errors.DhtError": 500,
    "bitdust.dht.errors.MessageError": 400,
    "bitdust.dht.errors.RecordError": 400,
    "bitdust.dht.errors.RpcError": 502,
    "bitdust.dht.errors.RpcTimeout": 504,
    "bitdust.errors.InvalidInput": 400,  # was BadRequest
    "bitdust.errors.BitDustError": 500,
    "bitdust.errors.Conflict": 409,
    "bitdust.errors.Refused": 403,  # was Forbidden
    "bitdust.errors.NotFound": 404,
    "bitdust.errors.TooLarge": 413,  # was PayloadTooLarge
    "bitdust.errors.Unavailable": 503,  # was ServiceUnavailable
    "bitdust.interface.servers.PortUnavailable": 500,
    "bitdust.main.errors.EngineLocked": 500,
    "bitdust.main.service_framework.service_graph.DependencyCycle": 500,
    "bitdust.main.service_framework.service_manager.ServiceError": 409,
    "bitdust.p2p.errors.DeliveryFailed": 504,
    "bitdust.p2p.errors.PacketError": 400,
    "bitdust.raid.erasure.ErasureError": 500,
    "bitdust.sandbox.errors.NodeStartFailed": 500,
    "bitdust.sandbox.errors.SandboxError": 500,
    "bitdust.sandbox.errors.SandboxNotFound": 404,
    "bitdust.sandbox.errors.SandboxRunning": 409,
    "bitdust.storage.codec.errors.BadManifest": 400,
    "bitdust.storage.codec.errors.BlockUnavailable": 503,
    "bitdust.storage.codec.errors.CorruptBlock": 500,
    "bitdust.storage.codec.errors.CorruptFragment": 500,
    "bitdust.storage.codec.errors.UnsafeArchive": 400,
    "bitdust.transport.errors.NotConnected": 502,
    "bitdust.transport.errors.ProtocolViolation": 502,
    "bitdust.transport.errors.StreamAborted": 502,
    "bitdust.transport.errors.TransportError": 502,
    "bitdust.userid.errors.IdentityConflict": 409,
    "bitdust.userid.errors.IdentityError": 400,
    "bitdust.userid.errors.IdentityFetchError": 502,
    "bitdust.userid.errors.IdentitySignatureError": 400,
    "bitdust.userid.id_publish.IdentityPublishError": 502,
    "bitdust.userid.id_publish.IdentityPublishConflict": 409,  # was IdentityPublishError(conflict=True)
    "bitdust.userid.identity_quotas.KeyQuotaExceeded": 403,
    "bitdust.userid.identity_quotas.QuotaExceeded": 429,
    "bitdust.userid.identity_quotas.ServerFull": 507,
}


def _subclasses(cls: type[BitDustError]) -> Iterator[type[BitDustError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def project_errors() -> dict[str, type[BitDustError]]:
    """Every error class the ``bitdust`` package defines, by dotted name (all modules imported)."""
    for module in pkgutil.walk_packages(bitdust.__path__, "bitdust."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found = {f"{c.__module__}.{c.__qualname__}": c for c in _subclasses(BitDustError)}
    found["bitdust.errors.BitDustError"] = BitDustError
    return {name: cls for name, cls in found.items() if name.startswith("bitdust.")}


def of_no_kind(classes: Iterable[type[BitDustError]]) -> list[str]:
    """The classes (other than the root) that only the root's fallback row answers."""
    return sorted(c.__qualname__ for c in classes if c is not BitDustError and deciding_class(c) is BitDustError)


def test_every_kind_has_exactly_one_row() -> None:
    assert set(STATUSES) == set(KINDS)
    assert all(getattr(errors, kind.__name__) is kind for kind in KINDS)


def test_every_error_of_the_project_has_a_kind() -> None:
    assert of_no_kind(project_errors().values()) == []


def test_an_error_derived_from_the_root_directly_is_reported() -> None:
    class Stray(BitDustError):
        pass

    class Kinded(RemoteFailure):
        pass

    assert of_no_kind([Stray, Kinded, BitDustError]) == [
        "test_an_error_derived_from_the_root_directly_is_reported.<locals>.Stray"
    ]
    assert status_of(Stray("x")) == 500 and status_of(Kinded("x")) == 502


def test_every_error_is_answered_with_the_status_it_had() -> None:
    found = project_errors()
    assert set(STATUSES_BEFORE) <= set(found), "an error class named here is gone"
    statuses = {name: STATUSES[deciding_class(found[name])] for name in STATUSES_BEFORE}
    assert statuses == STATUSES_BEFORE


def test_the_first_kind_in_the_mro_decides() -> None:
    class Both(Malformed, InvalidInput):
        pass

    assert deciding_class(Both) is Malformed


def test_no_error_class_carries_an_http_status() -> None:
    for name, cls in project_errors().items():
        assert not hasattr(cls, "http_code"), name


# -- the table answers REST and WebSocket calls -----------------------------------------------


@api_method("GET", "errors/raise/v1", params={"kind": "name of a kind in bitdust.errors"})
def errors_raise(engine: Any, kind: str) -> None:
    raise getattr(errors, kind)(f"raised {kind}")


def _answer(kind: str) -> tuple[int, dict[str, Any]]:
    registry = ApiRegistry(object(), [getattr(errors_raise, SPEC_ATTRIBUTE)])
    out: list[Any] = []
    registry.call("errors_raise", {"kind": kind}).addBoth(out.append)
    assert out, "the call did not answer at once"
    result: tuple[int, dict[str, Any]] = out[0]
    return result


@pytest.mark.parametrize("kind", [k for k in KINDS if k is not BitDustError], ids=lambda k: k.__name__)
def test_the_registry_answers_each_kind_from_the_table(kind: type[BitDustError]) -> None:
    code, envelope = _answer(kind.__name__)
    assert code == STATUSES[kind]
    assert envelope["status"] == "ERROR" and envelope["errors"] == [f"raised {kind.__name__}"]
