"""Which benchmarks exist. A later issue adds its module to :func:`benchmarks`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen
class Benchmark:
    """``run(quick)`` measures and returns JSON-ready figures; ``render(figures)`` prints them for humans."""

    name: str
    description: str
    run: Callable[[bool], dict[str, Any]]
    render: Callable[[dict[str, Any]], None]


def benchmarks() -> dict[str, Benchmark]:
    from bitdust.bench import (
        api,
        codec,
        dht,
        dht_attacks,
        identity,
        identity_flood,
        network_start,
        peer_flood,
        transport,
    )

    return {
        bench.name: bench
        for bench in (
            api.BENCHMARK,
            identity.BENCHMARK,
            codec.BENCHMARK,
            transport.BENCHMARK,
            dht.BENCHMARK,
            peer_flood.BENCHMARK,
            dht_attacks.BENCHMARK,
            identity_flood.BENCHMARK,
            network_start.BENCHMARK,
        )
    }
