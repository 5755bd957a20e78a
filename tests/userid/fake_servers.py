"""A fleet of identity servers in memory, with the real servers' acceptance rules."""

from __future__ import annotations

from twisted.internet import defer

from bitdust.userid.identity import Identity
from bitdust.userid.idurl import IdUrl


class FakeIdServers:
    def __init__(self, *addresses: str) -> None:
        self.docs: dict[str, dict[str, Identity]] = {address: {} for address in addresses}
        self.down: set[str] = set()
        self.posts: list[str] = []

    def http_post(self, url: str, body: bytes, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        idurl = IdUrl.parse(url)
        self.posts.append(url)
        if idurl.server in self.down or idurl.server not in self.docs:
            return defer.fail(ConnectionRefusedError(f"{idurl.server} is down"))
        identity = Identity.from_xml(body)
        stored = self.docs[idurl.server].get(idurl.name)
        if stored is not None and stored.public_key != identity.public_key:
            return defer.succeed((409, b'{"status": "ERROR", "errors": ["name taken"]}'))
        if stored is not None and identity.revision <= stored.revision and not stored.same_content(identity):
            return defer.succeed((409, b'{"status": "ERROR", "errors": ["old revision"]}'))
        self.docs[idurl.server][idurl.name] = identity
        return defer.succeed((200, b'{"status": "OK"}'))

    def http_get(self, url: str, timeout: float) -> defer.Deferred[tuple[int, bytes]]:
        idurl = IdUrl.parse(url)
        if idurl.server in self.down or idurl.server not in self.docs:
            return defer.fail(ConnectionRefusedError(f"{idurl.server} is down"))
        stored = self.docs[idurl.server].get(idurl.name)
        if stored is None:
            return defer.succeed((404, b""))
        return defer.succeed((200, stored.to_xml().encode()))
