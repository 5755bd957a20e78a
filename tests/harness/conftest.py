"""The in-process network fixture: three nodes, two identity servers, one DHT seed, torn down after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_twisted

from bitdust.testing.network import Network, start_network


@pytest_twisted.async_yield_fixture
async def network(tmp_path: Path) -> AsyncIterator[Network]:
    net = await start_network(tmp_path / "net", nodes=3, id_servers=2, dht_seeds=1)
    try:
        yield net
    finally:
        await net.stop()
