"""The baseline of the ``api`` benchmark: a bare twisted.web resource answering a fixed JSON envelope.

``python -m bitdust.bench.baseline_server`` listens on a free loopback port, prints the port on
stdout and serves until it gets SIGTERM. It is what the engine's REST layer costs on top of.
"""

from __future__ import annotations

import json
import sys

BODY = json.dumps({"status": "OK", "result": {"alive": True, "state": "READY"}, "execution": "0.000010"}).encode()


def main() -> None:
    from twisted.internet import reactor
    from twisted.web import resource, server

    class Health(resource.Resource):
        isLeaf = True

        def render_GET(self, request):  # noqa: N802 - twisted.web hook
            request.setHeader(b"content-type", b"application/json")
            return BODY

    site = server.Site(Health())
    site.log = lambda request: None  # no access log, as the engine by default
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    print(port.getHost().port, flush=True)
    sys.stdout.close()
    reactor.run()


if __name__ == "__main__":
    main()
