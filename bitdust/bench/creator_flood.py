"""Issue 11 point 7 figure: open fetches and open files while 300 packets name 300 unknown creators.

Runs on the real reactor with the real HTTP getter, identity cache and gateway: an "identity
server" on 127.0.0.1 that accepts connections and never answers, and 300 signed packets whose
creators are 300 names on it, all from one sender address. Prints the sockets that server holds,
this process's open files before and during the flood, and its peak RSS::

    python -m bitdust.bench.creator_flood            # this tree
    PYTHONPATH=/path/to/other/tree python bitdust/bench/creator_flood.py   # another tree, same script
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

COUNT = 300


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def main() -> None:
    from twisted.internet import defer, protocol, reactor

    from bitdust.bench.listening import listen_tcp, port_number
    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.p2p import commands
    from bitdust.p2p import packet as packets
    from bitdust.p2p.gateway import Gateway
    from bitdust.p2p.packet import Packet
    from bitdust.userid.http_fetch import make_http_get
    from bitdust.userid.identity import Identity
    from bitdust.userid.identity_cache import IdentityCache

    held: list[Any] = []

    class Silent(protocol.Protocol):
        def connectionMade(self) -> None:  # noqa: N802 - Twisted hook
            held.append(self)

    class Holder(protocol.ServerFactory):
        protocol = Silent

    port = listen_tcp(reactor, Holder())
    server = f"127.0.0.1:{port_number(port)}"
    key = RsaKey.generate(1024)
    me = Identity(sources=["http://127.0.0.1:9/bob.xml"], public_key=key.public_openssh(), revision=1).signed(key)
    folder = tempfile.mkdtemp(prefix="creator-flood-")
    cache = IdentityCache(Path(folder), http_get=make_http_get(reactor), clock=reactor, timeout=30)

    def inline(fn: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        return defer.maybeDeferred(fn, *args, **kwargs)

    gateway = Gateway(clock=reactor, identity=lambda: me, signing_key=lambda: key, cache=cache, run_blocking=inline)

    class Source:
        host = "203.0.113.66"

        def report_garbage(self, reason: str) -> None:
            pass

    before = _open_files()
    for i in range(COUNT):
        creator = f"http://{server}/u{i:03d}.xml"
        packet = Packet(
            command=commands.MESSAGE,
            owner_id=creator,
            creator_id=creator,
            packet_id=f"f{i}",
            date=reactor.seconds(),
            payload=b"x",
            remote_id=me.idurl.url,
        )
        gateway.inbox(packets.encode(packets.sign(packet, key)), Source())

    def measure() -> None:
        during = _open_files()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"packets={COUNT} server_connections_open={len(held)} open_files_before={before} "
            f"open_files_during={during} peak_rss_mb={rss:.0f}"
        )
        sys.stdout.flush()
        os._exit(0)  # the fetches still hang: nothing to clean up but the process

    reactor.callLater(2.0, measure)
    reactor.run()


if __name__ == "__main__":
    main()
