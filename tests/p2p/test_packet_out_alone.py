"""The packet_out machine (automats/packet_out.md) alone, with a recording fake gateway on a task.Clock.

``test_packet_out.py`` drives the machine through a real Gateway; the edges it cannot reach
there (an Ack or a Fail that arrives while the transport is still writing, a cancel before the
machine ran) are taken here, where the test decides when each of the gateway's Deferreds fires.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from twisted.internet import defer, task

from bitdust.p2p import commands
from bitdust.p2p.errors import DeliveryFailed
from bitdust.p2p.gateway import Gateway
from bitdust.p2p.packet import Packet
from bitdust.p2p.packet_out import PacketOut, PacketOutGateway

ALICE = "http://127.0.0.1:8084/alice.xml"
BOB = "http://127.0.0.1:8084/bob.xml"


def packet(command: str = commands.IDENTITY, payload: bytes = b"") -> Packet:
    return Packet(
        command=command,
        owner_id=ALICE,
        creator_id=ALICE,
        packet_id="p-1",
        date=1000.0,
        payload=payload,
        remote_id=BOB,
    )


def answer(command: str, payload: bytes = b"") -> Packet:
    return Packet(
        command=command, owner_id=BOB, creator_id=BOB, packet_id="p-1", date=1000.0, payload=payload, remote_id=ALICE
    )


class FakeGateway:
    """Records what the machine asks of the gateway; each transmit waits for the test."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.transmits: list[defer.Deferred[Any]] = []
        self.finished_outs: list[PacketOut] = []

    def prepare(self, pkt: Packet) -> tuple[Packet, bytes, Any]:
        self.calls.append("prepare")
        return pkt, b"wire", SimpleNamespace(contacts=("tcp://127.0.0.1:7771",))

    def transmit(self, pkt: Packet, wire: bytes, identity: Any, transfers: list[Any]) -> defer.Deferred[Any]:
        self.calls.append("transmit")
        d: defer.Deferred[Any] = defer.Deferred()
        self.transmits.append(d)
        return d

    def refresh_identity(self, remote_id: str, *, reason: str) -> defer.Deferred[Any]:
        self.calls.append("refresh_identity")
        return defer.succeed(None)

    def route(self, identity: Any) -> Any:
        return None

    def finished(self, out: PacketOut) -> None:
        self.calls.append("finished")
        self.finished_outs.append(out)


class Harness:
    def __init__(self, *, retries: int = 2) -> None:
        self.clock = task.Clock()
        self.gateway = FakeGateway()
        self.out = PacketOut(self.gateway, packet(), timeout=9.0, retries=retries, clock=self.clock)
        self.results: list[Any] = []
        self.out.result.addBoth(self.results.append)

    def sending(self) -> None:
        self.out.run()
        assert self.out.state == "SENDING" and self.gateway.calls == ["prepare", "transmit"]

    def error(self) -> DeliveryFailed:
        [failure] = self.results
        assert isinstance(failure.value, DeliveryFailed)
        return failure.value


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    yield harness
    harness.out.destroy()


def test_ack_while_the_transport_is_still_writing_is_done(h: Harness) -> None:
    # Edge SENDING -> DONE on ack: bob answered before the write completion came back.
    h.sending()
    ack = answer(commands.ACK)
    h.out.ack(packet=ack)
    assert h.out.state == "DONE" and h.out.destroyed
    assert h.results == [ack] and h.out.response is ack
    assert h.gateway.calls[-1] == "finished"
    h.gateway.transmits[0].callback(None)  # the late write completion changes nothing
    assert h.out.state == "DONE" and h.clock.getDelayedCalls() == []


def test_fail_while_the_transport_is_still_writing_fails(h: Harness) -> None:
    # Edge SENDING -> FAILED on fail: bob refused the packet before the write completion came back.
    h.sending()
    h.out.fail(packet=answer(commands.FAIL, b"unknown command"))
    assert h.out.state == "FAILED" and h.out.destroyed
    error = h.error()
    assert error.reason == "failed" and str(error) == f"{BOB} answered Fail to {commands.IDENTITY}: unknown command"
    assert error.detail == "unknown command"  # the peer's own words, for callers that show them
    assert h.gateway.calls[-1] == "finished"


def test_fail_while_waiting_to_retry_fails(h: Harness) -> None:
    # Edge RETRY_WAIT -> FAILED on fail: the write failed, the refresh found no new route, then bob said Fail.
    h.sending()
    h.gateway.transmits[0].errback(ConnectionRefusedError("refused"))
    assert h.out.state == "RETRY_WAIT"
    assert h.gateway.calls == ["prepare", "transmit", "refresh_identity"]
    h.out.fail(packet=answer(commands.FAIL, b"busy"))
    assert h.out.state == "FAILED"
    assert h.error().reason == "failed" and "busy" in str(h.error())
    h.clock.advance(9)  # the attempt deadline was cancelled with the state: no more sends
    assert h.gateway.calls.count("transmit") == 1 and h.clock.getDelayedCalls() == []


def test_cancel_before_the_machine_ran(h: Harness) -> None:
    # Edge AT_STARTUP -> CANCELLED on cancel: the caller cancelled the result before anything happened.
    h.out.result.cancel()
    assert h.out.state == "CANCELLED" and h.out.destroyed
    assert h.error().reason == "cancelled"
    assert h.gateway.calls == ["finished"]


def test_cancel_while_the_transport_is_writing(h: Harness) -> None:
    # Edge SENDING -> CANCELLED on cancel.
    h.sending()
    h.out.cancel()
    assert h.out.state == "CANCELLED"
    assert h.error().reason == "cancelled" and str(h.error()) == f"{commands.IDENTITY} to {BOB} was cancelled"
    h.gateway.transmits[0].callback(None)
    assert h.out.state == "CANCELLED" and h.gateway.calls == ["prepare", "transmit", "finished"]


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import statement stands (TYPE_CHECKING blocks too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_packet_out_does_not_import_the_gateway() -> None:
    imported = _imported_modules(Path(inspect.getfile(PacketOut)))
    assert not {name for name in imported if name.startswith("bitdust.p2p.gateway")}


# How packet_out calls each member of its gateway interface: positional arguments, keyword arguments.
_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "prepare": ((packet(),), {}),
    "transmit": ((packet(), b"wire", None, []), {}),
    "refresh_identity": ((BOB,), {"reason": "no answer"}),
    "route": ((None,), {}),
    "finished": ((None,), {}),
}


@pytest.mark.parametrize("implementation", [Gateway, FakeGateway])
def test_the_gateway_and_the_fake_satisfy_the_narrow_interface(implementation: type) -> None:
    members = {name for name, _ in inspect.getmembers(PacketOutGateway, inspect.isfunction) if not name.startswith("_")}
    assert members == set(_CALLS)  # the table above covers the whole interface
    assert issubclass(implementation, PacketOutGateway)
    for name, (args, kwargs) in _CALLS.items():
        inspect.signature(getattr(implementation, name)).bind(None, *args, **kwargs)  # raises TypeError if not
