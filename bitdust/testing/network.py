"""A whole BitDust network inside the calling process: identity servers, DHT seeds and nodes.

In the spirit of Tahoe-LAFS's ``no_network`` grid, but on real loopback sockets: every node is a
full :class:`~bitdust.main.engine.Engine` (the same services, machines and API a ``bitdust run``
process has) with its own home folder and its own free ports on 127.0.0.1, all sharing the
caller's reactor. The layout (names, homes, ports, config files, network config) is the
multi-process sandbox's own (:mod:`bitdust.sandbox.layout`), so a test here meets the network a
user meets with ``bitdust sandbox up``, minus the process start-up cost.

A test drives a node the way a client does: :meth:`NetworkNode.api` calls an API method by name
through the engine's API registry (the code path REST and WebSocket take after decoding a
request) and answers ``(http_code, envelope)`` as JSON a client would decode it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.interface.api import envelope
from bitdust.interface.servers import ApiServers
from bitdust.main.engine import Engine
from bitdust.node.composition import create_engine
from bitdust.sandbox.layout import plan_nodes, prepare_homes, sandbox_layout, write_options
from bitdust.sandbox.roles import DHT_SEED, ID_SERVER, NODE, role
from bitdust.sandbox.state import NodeRecord

#: 1024-bit keys: a fifth of the generation time of the default 2048, and tests do not need strength
TEST_KEY_SIZE = 1024
#: seconds an identity may take to be created and registered (key generation included)
IDENTITY_TIMEOUT = 60.0

ApiAnswer = tuple[int, dict[str, Any]]


#: identities created at once: below the identity servers' registrations in flight per address (16)
IDENTITY_BATCH = 8


class ApiCallFailed(Exception):
    """An API call answered something other than 200 OK; carries the code and the envelope."""

    def __init__(self, node: str, method: str, code: int, answer: dict[str, Any]) -> None:
        errors = "; ".join(str(e) for e in answer.get("errors", [])) or answer.get("status", "")
        super().__init__(f"{node}: {method} answered {code}: {errors}")
        self.node = node
        self.method = method
        self.code = code
        self.answer = answer


class NetworkNode:
    """One engine of the network: its planned record (home, ports) and, while running, its Engine."""

    def __init__(
        self,
        record: NodeRecord,
        *,
        reactor: Any,
        strict_automats: bool = False,
        engine_args: Mapping[str, Any] | None = None,
    ) -> None:
        self.record = record
        self.reactor = reactor
        self.engine: Engine | None = None
        self._strict = strict_automats
        self._engine_args = dict(engine_args or {})

    def __repr__(self) -> str:
        return f"<NetworkNode {self.name} {'running' if self.running else 'stopped'}>"

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def role(self) -> str:
        return self.record.role

    @property
    def home(self) -> Path:
        return self.record.home

    @property
    def running(self) -> bool:
        return self.engine is not None

    def ports(self) -> list[int]:
        """Every port this node listens on: REST, WebSocket and its role's own (TCP, DHT, identity)."""
        return [self.record.rest_port, self.record.ws_port] + [
            int(self.record.extra[p]) for p in role(self.role).extra_ports
        ]

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> defer.Deferred[NetworkNode]:
        """Build a fresh Engine on this node's home and ports and wait until it is READY."""
        if self.engine is not None:
            return defer.fail(RuntimeError(f"{self.name} is already running"))
        engine = create_engine(
            self.home,
            reactor=self.reactor,
            rest_port=self.record.rest_port,
            ws_port=self.record.ws_port,
            strict_automats=self._strict,
            **self._engine_args,
        )
        self.engine = engine
        waiter: defer.Deferred[NetworkNode] = defer.Deferred()

        def forward(result: Any) -> Any:
            # engine.ready keeps its own result for anyone else waiting on it
            if isinstance(result, Failure):
                self.engine = None
                # the engine stops itself after a failed start: report once it has
                engine.finished.addBoth(lambda _: waiter.errback(result))
            else:
                waiter.callback(self)
            return result

        engine.ready.addBoth(forward)
        engine.startService()
        return waiter

    def stop(self) -> defer.Deferred[None]:
        """Stop the engine in order (services, API servers, lock); a stopped node stays stopped."""
        engine, self.engine = self.engine, None
        if engine is None:
            return defer.succeed(None)
        return engine.stop().addCallback(lambda _: None)

    @defer.inlineCallbacks
    def restart(self) -> Any:
        """Stop and start again on the same home and ports (identity and keys survive on disk)."""
        yield self.stop()
        yield self.start()
        return self

    # -- the API ------------------------------------------------------------------------------

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.engine

    def api(self, method: str, **params: Any) -> defer.Deferred[ApiAnswer]:
        """Call an API method as a client does; fires ``(http_code, envelope)``.

        ``params`` go through the registry's parameter parsing and checks like a WebSocket
        call's; the envelope is encoded to JSON and decoded again, so the test sees exactly
        what a client would (lists, not tuples; nothing JSON cannot carry).
        """
        engine = self.require_engine()
        servers = engine.api
        if not isinstance(servers, ApiServers):
            return defer.fail(RuntimeError(f"{self.name} has no API yet"))
        d: defer.Deferred[ApiAnswer] = servers.registry.call(method, params)
        return d.addCallback(lambda answer: (answer[0], json.loads(envelope.encode(answer[1]))))

    def call(self, method: str, **params: Any) -> defer.Deferred[Any]:
        """Like :meth:`api`, but fires with the result alone; anything but 200 is :class:`ApiCallFailed`."""

        def checked(answer: ApiAnswer) -> Any:
            code, body = answer
            if code != 200 or body.get("status") != "OK":
                raise ApiCallFailed(self.name, method, code, body)
            return body.get("result")

        return self.api(method, **params).addCallback(checked)

    def rest(self, verb: str, path: str, params: Mapping[str, Any] | None = None) -> defer.Deferred[ApiAnswer]:
        """The same call through the node's real REST port (``GET identity/get/v1``); fires
        ``(http_code, envelope)``. For a test that must see the HTTP layer too; ``api`` is the
        shorter way everywhere else. GET parameters go in the query string, others in a JSON body."""
        import treq
        from twisted.web.client import Agent, HTTPConnectionPool

        engine = self.require_engine()
        # no persistent connection: nothing of the test's client outlives the call
        client = treq.client.HTTPClient(Agent(self.reactor, pool=HTTPConnectionPool(self.reactor, persistent=False)))
        url = f"http://127.0.0.1:{self.record.rest_port}/{path.lstrip('/')}"
        headers: dict[bytes | str, bytes | str] = {"api_secret": engine.secret or ""}
        if verb.upper() == "GET":
            d = client.request("GET", url, params=dict(params or {}), headers=headers)
        else:
            d = client.request(verb.upper(), url, json=dict(params or {}), headers=headers)

        def read(response: Any) -> defer.Deferred[ApiAnswer]:
            return treq.json_content(response).addCallback(lambda body: (response.code, body))

        return d.addCallback(read)

    @property
    def global_id(self) -> str | None:
        """``user@host_port`` of this node's identity, None when it has none (or is stopped)."""
        identity = self.engine.local_identity.current if self.engine is not None else None  # type: ignore[attr-defined]
        return identity.global_id if identity is not None else None

    @property
    def idurl(self) -> str | None:
        identity = self.engine.local_identity.current if self.engine is not None else None  # type: ignore[attr-defined]
        return identity.idurl.url if identity is not None else None


class Network:
    """Identity servers, DHT seeds and plain nodes built by :func:`start_network`; ``stop`` ends them all."""

    def __init__(self, directory: Path, members: Iterable[NetworkNode]) -> None:
        self.directory = Path(directory)
        self.members: list[NetworkNode] = list(members)

    def _of(self, role_name: str) -> list[NetworkNode]:
        return [m for m in self.members if m.role == role_name]

    @property
    def nodes(self) -> list[NetworkNode]:
        """The plain nodes, ``node-1`` first: the ones a test usually drives."""
        return self._of(NODE.name)

    @property
    def id_servers(self) -> list[NetworkNode]:
        return self._of(ID_SERVER.name)

    @property
    def dht_seeds(self) -> list[NetworkNode]:
        return self._of(DHT_SEED.name)

    def node(self, name: str) -> NetworkNode:
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(f"no node {name!r} in the network (nodes: {', '.join(m.name for m in self.members)})")

    def ports(self) -> list[int]:
        """Every port of every member, running or not (for checking that teardown closed them)."""
        return [port for member in self.members for port in member.ports()]

    def stop(self) -> defer.Deferred[None]:
        """Stop every running member at once; fires when all have stopped, even when one failed to
        (then with the first failure), so nothing of the network outlives the call."""
        d = defer.DeferredList([member.stop() for member in self.members], consumeErrors=True)

        def checked(results: list[tuple[bool, Any]]) -> None:
            for ok, value in results:
                if not ok:
                    value.raiseException()

        return d.addCallback(checked)


@defer.inlineCallbacks
def start_network(
    directory: Path,
    *,
    nodes: int = 3,
    id_servers: int = 2,
    dht_seeds: int = 1,
    identities: bool = True,
    key_size: int = TEST_KEY_SIZE,
    options: Mapping[str, str] | None = None,
    reactor: Any = None,
    strict_automats: bool = True,
    engine_args: Mapping[str, Any] | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> Any:
    """Build and start a network in ``directory``; fires with the :class:`Network`.

    Identity servers and DHT seeds start first (all at once), then the plain nodes (all at once);
    with ``identities`` each plain node then creates an identity named after it (``node-1``, ...)
    registered on the identity servers and joins the network, as ``bitdust sandbox up`` does.
    ``options`` (key -> text) are written into every home on top of the sandbox's, ``key_size``
    is every node's ``personal/private-key-size``. ``strict_automats``: an event a machine's
    source does not declare raises (as in unit tests) instead of being logged. On any failure
    everything started is stopped again before the error propagates. ``on_phase(name)`` is called as each phase ends
    (``homes``, ``servers``, ``nodes``, ``identities``): the benchmark times them.
    """
    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = default_reactor
    if nodes < 1:
        raise ValueError("a network needs at least one node")
    if identities and id_servers < 1:
        raise ValueError("identities need at least one identity server")
    directory = Path(directory)
    extra = {"personal/private-key-size": str(key_size), **dict(options or {})}

    def prepare() -> list[NodeRecord]:
        """Blocking (probes ports, writes files): plan the members and lay out their homes."""
        planned = plan_nodes(directory, sandbox_layout(id_servers, dht_seeds, nodes))
        prepare_homes(planned)
        for record in planned:
            write_options(record.home, extra)
        return planned

    phase = on_phase or (lambda _name: None)
    records = yield _blocking(reactor, prepare)
    phase("homes")
    network = Network(
        directory,
        [
            NetworkNode(record, reactor=reactor, strict_automats=strict_automats, engine_args=engine_args or {})
            for record in records
        ],
    )
    try:
        yield _start_all(network.id_servers + network.dht_seeds)
        phase("servers")
        yield _start_all(network.nodes)
        phase("nodes")
        if identities:
            # An identity server takes a bounded number of registrations from one address at once.
            yield _each(network.nodes, create_identity, limit=IDENTITY_BATCH)
            phase("identities")
    except BaseException:
        yield network.stop().addErrback(lambda _: None)
        raise
    return network


def create_identity(node: NetworkNode) -> defer.Deferred[Any]:
    """Create the node's identity, named after it, and join the network (``identity_create``)."""
    return node.call("identity_create", username=node.name, join_network=True)


def _start_all(members: list[NetworkNode]) -> defer.Deferred[Any]:
    return _each(members, NetworkNode.start)


def _each(
    members: list[NetworkNode], action: Callable[[NetworkNode], defer.Deferred[Any]], *, limit: int | None = None
) -> defer.Deferred[Any]:
    """Run ``action`` on every member (at most ``limit`` at a time, else all at once); fail with the
    first failure itself (not a FirstError)."""
    if limit is not None:
        gate = defer.DeferredSemaphore(limit)
        calls = [gate.run(action, m) for m in members]
    else:
        calls = [defer.maybeDeferred(action, m) for m in members]
    d = defer.gatherResults(calls, consumeErrors=True)
    return d.addErrback(lambda f: f.value.subFailure if f.check(defer.FirstError) else f)


def _blocking(reactor: Any, fn: Callable[[], Any]) -> defer.Deferred[Any]:
    from twisted.internet.threads import deferToThreadPool

    return deferToThreadPool(reactor, reactor.getThreadPool(), fn)


@defer.inlineCallbacks
def poll(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05, reactor: Any = None) -> Any:
    """Call ``check`` (a value or a Deferred) until it gives something true; fires with that value.

    For waiting on the network (a DHT join, a value spreading) without sleeping for a fixed time:
    the deadline only bounds a failure, a success returns at once. :class:`TimeoutError` names
    ``what`` and the last value seen.
    """
    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = default_reactor
    deadline = reactor.seconds() + timeout
    last: Any = None
    while True:
        last = yield defer.maybeDeferred(check)
        if last:
            return last
        if reactor.seconds() >= deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}; last seen: {last!r}")
        yield _sleep(reactor, interval)


def _sleep(reactor: Any, seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d
