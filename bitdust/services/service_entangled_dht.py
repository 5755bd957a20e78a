"""service_entangled_dht: the node's Kademlia DHT (bitdust.dht) on its UDP port.

It needs no identity: a DHT seed is a node without one, routing for everybody. Records that
speak for a user are checked against that user's identity (fetched through the identity cache),
and a node with an identity publishes its nickname record (``personal/nickname``, default: the
identity's name) when the service starts, whenever the identity or the nickname changes, and
every ``NICKNAME_REFRESH`` seconds: a nickname record lives only a few days after its signed
timestamp (see :mod:`bitdust.dht.nickname`). That life cycle is the ``nickname_publisher``
machine (:mod:`bitdust.dht.nickname_publisher`), which the service builds when it starts, sends
``publish`` to, and destroys when it stops.

Layers: the node is attached to layer 0, to the layers declared by every service that is ON
(``BitDustService.layers``) and to those of ``attached-layers``; it follows ``service-started``
and ``service-stopped`` events and option changes, so a service that stops detaches its layers.
A seed (``seed-mode``) is active on every layer but attached to layer 0 only.
"""

from __future__ import annotations

import ipaddress
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.python.failure import Failure

from bitdust.dht.family_record import FamilyRecords
from bitdust.dht.layer import LAYERS
from bitdust.dht.nickname import NICKNAME_REFRESH, publish_nickname
from bitdust.dht.nickname_publisher import NICKNAME_RETRY, NicknameOutcome, NicknamePublisher
from bitdust.dht.node import DhtNode
from bitdust.dht.node_id import ID_BYTES
from bitdust.dht.records import NICKNAME_POSITIONS, RecordValidator, sign_record
from bitdust.dht.settings import DhtSettings
from bitdust.dht.store import DhtStore, SqliteBackend
from bitdust.main.errors import InvalidInput
from bitdust.main.logs import log_failure
from bitdust.main.settings.config_options import Option
from bitdust.raid.eccmap import supplier_positions
from bitdust.services.entangled_dht_options import NICKNAME_KEY, entangled_dht_options
from bitdust.services.node_service import NodeService

if TYPE_CHECKING:
    from twisted.internet.interfaces import IListeningPort

    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.main.settings.config import WatchHandle
    from bitdust.node.engine import NodeEngine

SERVICE_NAME = "service_entangled_dht"
MAX_NICKNAME_POSITIONS = NICKNAME_POSITIONS
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def parse_known_nodes(text: str) -> list[tuple[str, int]] | None:
    """``host:port, host:port`` -> addresses; ``genesis`` -> [] (do not bootstrap); '' -> None."""
    text = (text or "").strip()
    if not text:
        return None
    if text.lower() in ("genesis", "root"):
        return []
    nodes = []
    for item in text.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidInput(f"bad DHT node address {item.strip()!r}: expected host:port")
        nodes.append((host, int(port)))
    return nodes


def parse_layers(items: tuple[str, ...]) -> set[int]:
    layers = set()
    for item in items:
        if not item.isdigit() or int(item) not in LAYERS:
            raise InvalidInput(f"bad DHT layer {item!r}: layers are 0 to {max(LAYERS)}")
        layers.add(int(item))
    return layers


class EntangledDhtService(NodeService):
    name = SERVICE_NAME  # type: ignore[assignment]  # Twisted's Service.name is typed None
    depends_on = ("service_network",)
    layers = (0,)
    description = "Kademlia DHT over UDP: layers, validated records, nickname lookups"

    def __init__(self, engine: NodeEngine) -> None:
        super().__init__(engine)
        self.node: DhtNode | None = None
        #: family records read and published through the node (it remembers the newest per customer)
        self.families: FamilyRecords | None = None
        self.port: IListeningPort | None = None
        self.udp_port: int | None = None
        self.nickname_publisher: NicknamePublisher | None = None
        self._last_nickname: NicknameOutcome = {"state": "not-published"}
        self._watches: list[WatchHandle] = []

    def options(self) -> tuple[Option, ...]:
        return entangled_dht_options(self.config_prefix(), with_nickname=NICKNAME_KEY not in self.engine.config)

    def installed(self) -> bool:
        return True  # a DHT seed runs without an identity

    def option(self, name: str) -> Any:
        return self.engine.config.get(f"{self.config_prefix()}/{name}")

    # -- start and stop ------------------------------------------------------------------------

    def start(self) -> defer.Deferred[None]:
        engine = self.engine
        folder = engine.paths.sub("dht")
        known = parse_known_nodes(self.option("known-nodes"))
        attached = parse_layers(self.option("attached-layers"))
        settings = DhtSettings(
            k=self.option("bucket-size"),
            alpha=self.option("parallel-lookups"),
            default_ttl=self.option("default-expire-seconds"),
            rate_limit=float(self.option("rate-limit-per-second")),
            rate_burst=2.0 * self.option("rate-limit-per-second"),
        )
        store = DhtStore(
            backend=SqliteBackend(folder / "dht.sqlite"),
            run_blocking=engine.run_blocking,
            max_items=settings.max_items,
            max_per_sender=settings.max_items_per_sender,
            log=engine.logger("bitdust.dht"),
        )

        def prepare() -> tuple[bytes, list[tuple[str, int]]]:
            node_id = _load_node_id(folder)
            store.load()
            if known is not None:
                return node_id, known
            seeds = []
            for seed in engine.network_config().dht_seeds:
                host, port = seed.get("host"), seed.get("udp_port")
                if isinstance(host, str) and isinstance(port, int) and 0 < port < 65536:
                    seeds.append((host, port))
            return node_id, seeds

        def started(prepared: tuple[bytes, list[tuple[str, int]]]) -> None:
            node_id, seeds = prepared
            port = self.option("udp-port")
            node = DhtNode(
                clock=engine.reactor,
                rng=random.Random(int.from_bytes(os.urandom(16), "big")),
                node_id=node_id,
                settings=settings,
                store=store,
                validator=self.record_validator(),
                log=engine.logger("bitdust.dht"),
                automats=engine.automats,
            )
            # A child of this service: stopping the service closes it (before stop() below runs).
            self.port = self.open_port(lambda: node.listen(engine.reactor, port, interface=self.option("interface")))
            address = self.port.getHost()
            self.udp_port = address.port if isinstance(address, IPv4Address | IPv6Address) else port
            self.node = node
            self.families = FamilyRecords(node, engine.run_blocking)
            if self.option("seed-mode"):
                for layer in LAYERS:
                    node.activate_layer(layer)
            node.mark_attached(0)
            for layer in attached:
                node.mark_attached(layer)
            self._update_idurl()
            node.start()
            node.join([s for s in seeds if not self._is_me(s)])
            engine.events.subscribe(self._on_event)
            for key in (f"{self.config_prefix()}/attached-layers", NICKNAME_KEY):
                self._watches.append(engine.config.watch(key, self._on_option))
            engine.log.info(
                "DHT node {node_id} on UDP port {port}, seeds: {seeds}",
                node_id=node.node_id.hex(),
                port=self.udp_port,
                seeds=", ".join(f"{h}:{p}" for h, p in seeds) or "none",
            )
            self.sync_layers()
            self.start_nickname_publisher()

        def failed(failure: Failure) -> Failure:
            store.close()
            return failure

        return engine.run_blocking(prepare).addCallback(started).addErrback(failed)

    def stop(self) -> defer.Deferred[None]:
        engine = self.engine
        engine.events.unsubscribe(self._on_event)
        self.stop_nickname_publisher()
        for watch in self._watches:
            watch.cancel()
        self._watches = []
        node, self.node, self.families = self.node, None, None
        self.port = None  # closed with the service's children
        if node is None:
            return defer.succeed(None)
        node.stop()

        def close(_: object) -> defer.Deferred[None]:
            return engine.run_blocking(node.close_store)

        return node.flushed().addCallback(close)

    def _is_me(self, address: tuple[str, int]) -> bool:
        host, port = address
        if port != self.udp_port:
            return False
        if host in _LOOPBACK:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def record_validator(self) -> RecordValidator:
        """The DHT's record checks, given what they may not import: identities and the ECC layouts."""
        engine = self.engine
        return RecordValidator(
            self._public_key, engine.run_blocking, engine.reactor.seconds, ecc_layouts=supplier_positions()
        )

    # -- identities ----------------------------------------------------------------------------

    def _public_key(self, idurl: str) -> defer.Deferred[RsaKey]:
        """The key a record "from" ``idurl`` must be signed by: ours, or the one its own server vouches for.

        Never a key some other document merely lists ``idurl`` for (see the identity cache's binding rule).
        """
        engine = self.engine
        local = engine.local_identity.current
        if local is not None and idurl in [s.url for s in local.sources]:
            return defer.succeed(local.public_rsa())
        return engine.identity_cache.public_key(idurl)

    def _update_idurl(self) -> None:
        if self.node is not None:
            identity = self.engine.local_identity.current
            self.node.set_idurl(identity.idurl.url if identity is not None else "")

    # -- layers --------------------------------------------------------------------------------

    def wanted_layers(self) -> set[int]:
        """Layer 0, the layers of every service that is ON, and the attached-layers option."""
        services = self.engine.services
        wanted = {0}
        for name in services.names():
            if services.is_on(name) or name == self.name:
                wanted.update(layer for layer in services.get(name).layers if layer in LAYERS)
        try:
            wanted |= parse_layers(self.option("attached-layers"))
        except InvalidInput as exc:
            self.engine.log.warn("{reason}", reason=exc.message)
        return wanted

    def sync_layers(self) -> None:
        node = self.node
        if node is None:
            return
        wanted = self.wanted_layers()
        for layer in sorted(wanted - set(node.attached_layers())):
            node.attach_layer(layer).addErrback(
                log_failure(self.engine.log, "DHT attach to layer {layer} failed", layer=layer)
            )
            self.engine.events.send("dht-layer-connected", {"layer_id": layer})
        for layer in sorted(set(node.attached_layers()) - wanted):
            node.detach_layer(layer).addErrback(
                log_failure(self.engine.log, "DHT detach from layer {layer} failed", layer=layer)
            )

    def _on_event(self, event: dict[str, Any]) -> None:
        event_id = event.get("id")
        if event_id in ("service-started", "service-stopped"):
            self.sync_layers()
        elif event_id in ("local-identity-set", "my-identity-rotated", "local-identity-erased"):
            self._update_idurl()
            self.publish_nickname_later()

    def _on_option(self, key: str, new: object, old: object) -> None:
        if key == NICKNAME_KEY:
            self.publish_nickname_later()
        else:
            self.sync_layers()

    # -- nickname ------------------------------------------------------------------------------

    def my_nickname(self) -> str | None:
        identity = self.engine.local_identity.current
        if identity is None:
            return None
        return self.engine.config.get(NICKNAME_KEY) or identity.name

    @property
    def nickname(self) -> NicknameOutcome:
        """How the last publication of our nickname went (``dht.nickname`` of ``network_status``)."""
        return self.nickname_publisher.outcome if self.nickname_publisher is not None else self._last_nickname

    def start_nickname_publisher(self) -> None:
        """Build the machine that keeps our nickname record alive, and publish at once."""
        self.stop_nickname_publisher()
        self.nickname_publisher = NicknamePublisher(
            publish=self.publish_nickname,
            nickname=self.my_nickname,
            outcome=self._last_nickname,
            refresh=NICKNAME_REFRESH,
            retry=NICKNAME_RETRY,
            clock=self.engine.reactor,
            registry=self.engine.automats,
            log=self.engine.log,
        )
        self.nickname_publisher.publish()

    def stop_nickname_publisher(self) -> None:
        """Cancel the refresh; the outcome of a publication still under way is dropped."""
        publisher, self.nickname_publisher = self.nickname_publisher, None
        if publisher is not None:
            self._last_nickname = publisher.outcome
            publisher.stop()

    def publish_nickname_later(self) -> None:
        """Publish now, or once the publication under way is over (never two at a time)."""
        if self.nickname_publisher is not None:
            self.nickname_publisher.publish()

    def publish_nickname(self) -> defer.Deferred[NicknameOutcome]:
        """Take the first position of our nickname that is free or already ours: ``nickname:N``.

        The record's signed lifetime is bounded, so this runs again every ``NICKNAME_REFRESH``
        seconds (sooner after a failure) for as long as the service runs.
        """
        engine = self.engine
        identity = engine.local_identity.current
        nickname = self.my_nickname()
        master = engine.keys.master()
        node = self.node
        if node is None or identity is None or nickname is None or master is None:
            return defer.succeed({"state": "not-published", "reason": "no identity"})

        def sign(key: str, record: dict[str, Any]) -> defer.Deferred[dict[str, Any]]:
            return engine.run_blocking(sign_record, key, record, master.key)

        d: defer.Deferred[NicknameOutcome] = publish_nickname(
            node, nickname, identity.idurl.url, sign, engine.logger("bitdust.dht")
        )
        return d

    # -- observability -------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        node = self.node
        if node is None:
            return {}
        status = node.status()
        status["udp_port"] = self.udp_port
        status["nickname"] = dict(self.nickname)
        return status


def _load_node_id(folder: Path) -> bytes:
    """Blocking: the node's id, kept in ``dht/nodeid`` so a restarted node keeps its place."""
    path = folder / "nodeid"
    try:
        raw = bytes.fromhex(path.read_text().strip())
        if len(raw) == ID_BYTES:
            return raw
    except (OSError, ValueError):
        pass
    from bitdust.main.process.fileutil import atomic_write

    node_id = os.urandom(ID_BYTES)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(path, node_id.hex() + "\n")
    return node_id


def dht_service(engine: NodeEngine) -> EntangledDhtService | None:
    """The running DHT service of ``engine``, or None."""
    if not engine.services.is_on(SERVICE_NAME):
        return None
    service = engine.services.get(SERVICE_NAME)
    return service if isinstance(service, EntangledDhtService) and service.node is not None else None


def network_status_part(engine: NodeEngine) -> dict[str, Any]:
    """The ``dht`` part of ``network_status``.

    ``{active, udp_port, bytes_received, bytes_sent, layers: [{layer_id, data_store_items,
    node_items, node_id, buckets, contacts, attached, active, packets_received, packets_sent,
    rpc_calls, rpc_responses}], bootstrap: {state, attempts, seeds, seeds_down, next_retry_in},
    store_refusals: {by_reason, top_senders}, nickname}``; ``{active: false, reason}`` while the service does not run.
    """
    service = dht_service(engine)
    if service is None:
        return {"active": False, "reason": f"{SERVICE_NAME} is not running"}
    return {"active": True, **service.status()}
