"""End to end: a registration flood against a sandbox identity server (issue 11 point 8).

While threads post ~30 KB signed documents under many names with one key to the real identity
server process, alice and bob (registered on it) keep pinging each other, and afterwards the
server holds only the key's quota of the flood. Traffic goes to 127.0.0.1 only, bounded in count
and time.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bitdust.crypt.rsa_key import RsaKey
from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from bitdust.userid.identity import Identity
from bitdust.userid.identity_quotas import DEFAULT_MAX_PER_KEY
from tests.e2e.helpers import ok

pytestmark = pytest.mark.e2e

FLOOD = 200
THREADS = 6
DEADLINE = 120.0


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path_factory.mktemp("idflood"))
    try:
        sandbox.up(2, id_servers=1)
        for record in sandbox.load().nodes:
            if record.role == "node":
                ok(record, "GET", "network/connected/v1", wait_timeout=20)
        yield sandbox
    finally:
        if (sandbox.directory / "sandbox.json").exists():
            sandbox.down()


def _document(key: RsaKey, port: int, name: str) -> bytes:
    filler = tuple(f"{name}-{index}-" + "x" * 980 for index in range(28))
    identity = Identity(
        sources=[f"http://127.0.0.1:{port}/{name}.xml"],
        contacts=("tcp://127.0.0.1:1",),
        public_key=key.public_openssh(),
        revision=1,
        certificates=filler[:14],
        scrubbers=filler[14:],
    )
    return identity.signed(key).to_xml().encode("utf-8")


def _post(port: int, name: str, body: bytes) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{name}.xml", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return -1


def test_honest_pings_go_on_while_the_identity_server_is_flooded(box: Sandbox) -> None:
    records = box.load().nodes
    (server,) = [r for r in records if r.role != "node" and "id_port" in r.extra]
    alice, bob = [r for r in records if r.role == "node"]
    port = int(server.extra["id_port"])
    key = RsaKey.generate(2048)
    documents = [(f"flood{index:03d}", _document(key, port, f"flood{index:03d}")) for index in range(FLOOD)]
    codes: Counter[int] = Counter()
    stop = time.monotonic() + DEADLINE
    done = threading.Event()

    def flood() -> None:
        with ThreadPoolExecutor(THREADS) as pool:
            for code in pool.map(lambda doc: _post(port, *doc) if time.monotonic() < stop else 0, documents):
                codes[code] += 1
        done.set()

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    pings = 0
    try:
        while not done.is_set() and time.monotonic() < stop:
            ping(alice, bob)
            ping(bob, alice)
            pings += 2
    finally:
        flooder.join(DEADLINE)
    assert done.is_set(), "the flood did not finish in time"
    assert pings >= 2
    assert codes[200] == DEFAULT_MAX_PER_KEY, codes
    assert sum(codes.values()) == FLOOD and codes[-1] == 0, codes
    hosted = sorted(p.name for p in (server.home / "identityserver").glob("*.xml"))
    assert len([name for name in hosted if name.startswith("flood")]) == DEFAULT_MAX_PER_KEY
    assert {"node-1.xml", "node-2.xml"} <= set(hosted)
    ping(alice, bob)  # and after it


def ping(source: NodeRecord, target: NodeRecord) -> None:
    result = ok(source, "GET", "user/ping/v1", user_id=target.extra["global_id"], timeout=10)
    assert result["contact_state"] == "CONNECTED"
