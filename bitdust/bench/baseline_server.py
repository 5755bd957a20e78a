"""The baseline of the ``api`` benchmark: a bare twisted.web resource answering a fixed JSON envelope.

``python -m bitdust.bench.baseline_server`` listens on a free loopback port, prints the port on
stdout and serves until it gets SIGTERM. It is what the engine's REST layer costs on top of.
"""

from __future__ import annotations

import json
import sys
from typing import cast

BODY = json.dumps({"status": "OK", "result": {"alive": True, "state": "READY"}, "execution": "0.000010"}).encode()


def main() -> None:
    from twisted.internet import reactor
    from twisted.internet.interfaces import IReactorCore, IReactorTCP
    from twisted.web import resource, server

    from bitdust.bench.listening import listen_tcp, port_number
    from bitdust.bench.quiet_site import QuietSite

    class Health(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:  # noqa: N802 - twisted.web hook
            request.setHeader(b"content-type", b"application/json")
            return BODY

    port = listen_tcp(cast(IReactorTCP, reactor), QuietSite(Health()))
    print(port_number(port), flush=True)
    sys.stdout.close()
    cast(IReactorCore, reactor).run()


if __name__ == "__main__":
    main()
