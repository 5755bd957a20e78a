"""The ``twistd bitdust`` plugin's options and service factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.python import usage

from bitdust.main.process.paths import default_home

if TYPE_CHECKING:
    from bitdust.node.engine import NodeEngine


class Options(usage.Options):
    optParameters = [  # noqa: RUF012 - Twisted's declarative API
        ["basedir", "d", None, "home folder of the node (default: $BITDUST_HOME or ~/.bitdust)"],
        ["rest-port", None, None, "REST API port (saved in the config)", int],
        ["ws-port", None, None, "WebSocket API port (saved in the config)", int],
    ]


def makeService(options: Options) -> NodeEngine:  # noqa: N802 - Twisted plugin hook
    from twisted.internet import reactor

    from bitdust.node.composition import create_engine

    engine = create_engine(
        default_home(options["basedir"]),
        reactor=reactor,
        rest_port=options["rest-port"],
        ws_port=options["ws-port"],
        owns_reactor=True,
    )
    # twistd owns global logging; route it into the engine's log file as well.
    from twisted.logger import globalLogPublisher

    engine.logging.publisher.addObserver(globalLogPublisher)
    return engine
