"""A target node for attack tests: a real Gateway over a real IdentityCache, with fake identity servers.

Identity servers are a dict of documents by URL (``FakeServers``), so an attacker's server is just
more entries; packets arrive through ``Target.inbox`` from a ``Peer`` with an address of its own,
and everything runs on one ``task.Clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer, task

from bitdust.crypt.rsa_key import RsaKey
from bitdust.p2p import commands
from bitdust.p2p import packet as packets
from bitdust.p2p.gateway import Gateway
from bitdust.p2p.packet import Packet
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache

START = 1_700_000_000.0
TARGET = "http://id-b.net/bob.xml"


def run_inline(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    return defer.maybeDeferred(fn, *args, **kwargs)


class FakeServers:
    """``http_get`` over a dict: ``url -> Identity`` (served as XML), ``"hang"`` or absent (404)."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.calls: list[str] = []
        self.open: list[defer.Deferred[Any]] = []
        #: what an unknown URL gets: None for 404, "hang" for a server that never answers
        self.default: str | None = None

    def serve(self, identity: Identity, *urls: str) -> None:
        for url in urls or [source.url for source in identity.sources]:
            self.documents[url] = identity

    def __call__(self, url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        self.calls.append(url)
        answer = self.documents.get(url, self.default)
        if answer == "hang":
            d: defer.Deferred[tuple[int, bytes]] = defer.Deferred(canceller=lambda d: self.open.remove(d))
            self.open.append(d)
            return d
        if answer is None:
            return defer.succeed((404, b"not found"))
        return defer.succeed((200, answer.to_xml().encode()))


class Peer:
    """What a transport hands ``Gateway.inbox``: one connection from ``host``."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.garbage: list[str] = []

    def report_garbage(self, reason: str) -> None:
        self.garbage.append(reason)


class Target:
    """Bob's node: gateway, cache (on disk under ``folder``) and a Message handler that records."""

    def __init__(self, folder: Path, key: RsaKey, servers: FakeServers, **gateway_options: Any) -> None:
        self.clock = task.Clock()
        self.clock.advance(START)
        self.key = key
        self.folder = folder
        self.servers = servers
        self.identity = Identity(sources=[TARGET], public_key=key.public_openssh(), revision=1).signed(key)
        self.cache = self.new_cache()
        self.gateway = self.new_gateway(**gateway_options)

    def new_cache(self) -> IdentityCache:
        return IdentityCache(self.folder, http_get=self.servers, clock=self.clock, run_blocking=run_inline)

    def new_gateway(self, **options: Any) -> Gateway:
        gateway = Gateway(
            clock=self.clock,
            identity=lambda: self.identity,
            signing_key=lambda: self.key,
            cache=self.cache,
            run_blocking=run_inline,
            **options,
        )
        self.accepted: list[Packet] = []
        self.answers: list[Packet] = []

        def handler(packet: Packet, _source: Any) -> bytes:
            self.accepted.append(packet)
            return b""

        gateway.register(commands.MESSAGE, handler)
        # Our answers go nowhere; a transport that records them shows Ack or Fail.
        gateway.add_transport(_Recorder(self.answers))
        return gateway

    def restart(self, **gateway_options: Any) -> None:
        """A new cache loaded from the same folder and a new gateway: what a restart keeps."""
        self.gateway.stop()
        self.cache = self.new_cache()
        self.cache.load()
        self.gateway = self.new_gateway(**gateway_options)

    def wire(self, key: RsaKey, creator: str, *, command: str = commands.MESSAGE, **fields: Any) -> bytes:
        values: dict[str, Any] = dict(
            command=command,
            owner_id=creator,
            creator_id=creator,
            packet_id=f"p{len(self.servers.calls)}-{self.clock.seconds()}",
            date=self.clock.seconds(),
            payload=b"hello",
            remote_id=TARGET,
        )
        values.update(fields)
        return packets.encode(packets.sign(Packet(**values), key))

    def inbox(self, data: bytes, peer: Peer) -> None:
        self.gateway.inbox(data, peer)
        self.clock.advance(0)


class _Recorder:
    proto = "tcp"

    def __init__(self, answers: list[Packet]) -> None:
        self.answers = answers

    def send(self, idurl: str, contact: str, data: bytes) -> defer.Deferred[None]:
        self.answers.append(packets.decode(data))
        return defer.succeed(None)

    def bind(self, conn: Any, idurl: str) -> None:
        pass


def identity(
    key: RsaKey, *sources: str, revision: int = 1, contacts: tuple[str, ...] = ("tcp://10.9.9.9:1",)
) -> Identity:
    return Identity(
        sources=list(sources), public_key=key.public_openssh(), revision=revision, contacts=contacts
    ).signed(key)
