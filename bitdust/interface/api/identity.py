"""API methods of this node's identity: create, show, back up, recover, erase, rotate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer

from bitdust.crypt.rsa_key import RsaKey
from bitdust.interface.api.constraints import each, text
from bitdust.interface.api.keys import registry
from bitdust.interface.api.spec import ApiResult, api_method
from bitdust.main.errors import Conflict, InvalidInput
from bitdust.main.settings.network_config import IdServerAddress, parse_server_address
from bitdust.services.identity_part import rotate_identity, sync_key_owner
from bitdust.userid.id_registrator import IdRegistrator
from bitdust.userid.idurl import USERNAME_MAX_LENGTH, USERNAME_MIN_LENGTH, USERNAME_RE, IdUrl, check_username
from bitdust.userid.key_backup import check_backup_path, write_new_file

if TYPE_CHECKING:
    from twisted.python.failure import Failure

    from bitdust.main.settings.network_config import NetworkConfig
    from bitdust.node.engine import NodeEngine
    from bitdust.p2p.network_connector import NetworkConnector
    from bitdust.userid.id_rotator import Rotation
    from bitdust.userid.identity import Identity
    from bitdust.userid.identity_book import CachedIdentity

MAX_KEY_SOURCE = 64 * 1024
JOIN_WAIT = 30.0
"""Seconds ``join_network`` waits for the node to connect before answering anyway."""


def _current(engine: NodeEngine) -> Identity:
    identity = engine.local_identity.current
    if identity is None:
        raise Conflict("this node has no identity yet: use identity_create or identity_recover")
    return identity


def _no_identity_yet(engine: NodeEngine) -> None:
    identity = engine.local_identity.current
    if identity is not None:
        raise Conflict(f"this node already has the identity {identity.global_id}; erase it first with identity_erase")


def _join(engine: NodeEngine, join_network: bool, result: dict[str, Any]) -> dict[str, Any] | defer.Deferred[ApiResult]:
    """``join_network``: start the enabled services that are not running (the network ones) and
    wait until the node is connected, so that the identity we answer with lists its contacts
    and peers that fetch it now can reach us. ``join_network=False``: connect later
    (``network_reconnect``); the services that needed an identity are ready to start (OFF).
    """
    if not join_network:
        return result

    def connected(_started: list[str]) -> ApiResult | defer.Deferred[ApiResult]:
        connector = engine.p2p.connector
        if connector is None:
            return ApiResult(result, message="the network services did not start; see services_list")
        return connector.wait_settled(JOIN_WAIT).addCallback(settled, connector)

    def settled(ok: bool, connector: NetworkConnector) -> ApiResult:
        current = engine.local_identity.current
        answer = current.to_json(include_xml=True) if current is not None else result
        if ok:
            return ApiResult(answer, message="connected")
        reason = connector.problem or f"network_connector is {connector.state}"
        return ApiResult(answer, message=f"not connected yet: {reason}")

    return engine.services.start_enabled().addCallback(connected)


def _identity_appeared(engine: NodeEngine, identity: Identity) -> dict[str, Any]:
    """What follows a new identity (created or recovered): the key owner, the event, the services.

    Services whose "installed" check needs an identity (the gateway and what depends on it) are
    checked again, so they are no longer reported NOT_INSTALLED and ``network_reconnect`` or
    ``service_start`` can bring them up.
    """
    sync_key_owner(engine.local_identity, engine.keys)
    engine.services.recheck_installed()
    engine.events.send("local-identity-set", {"global_id": identity.global_id, "idurl": identity.idurl.url})
    return identity.to_json(include_xml=True)


def _servers(engine: NodeEngine, preferred: list[str]) -> defer.Deferred[list[IdServerAddress]]:
    """Preferred servers first (API argument, then the config option), then the network config's."""
    chosen = [parse_server_address(text) for text in preferred]
    chosen += [
        parse_server_address(text) for text in engine.config.get("services/identity-propagate/preferred-servers")
    ]

    def merge(network: NetworkConfig) -> list[IdServerAddress]:
        seen: dict[str, IdServerAddress] = {}
        for server in chosen + list(network.identity_servers):
            seen.setdefault(server.address, server)
        return list(seen.values())

    return engine.run_blocking(engine.network_config).addCallback(merge)


@api_method(
    "GET", "identity/get/v1", params={"include_xml_source": "also return the signed XML document"}, answers=(409,)
)
def identity_get(engine: NodeEngine, include_xml_source: bool = False) -> dict[str, Any]:
    """This node's identity."""
    return _current(engine).to_json(include_xml=include_xml_source)


@api_method(
    "POST",
    "identity/create/v1",
    params={
        "username": "3 to 20 characters of a-z, 0-9, - and _",
        "preferred_servers": "identity servers to register on, as host:port (default: the network config's)",
        "join_network": "start the network services afterwards and wait until the node is connected",
    },
    constraints={
        "username": text(
            USERNAME_MIN_LENGTH,
            USERNAME_MAX_LENGTH,
            USERNAME_RE.pattern,
            explain=f"a user name is {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} lowercase letters, digits, '-' or '_'",
        ),
        "preferred_servers": each(text()),
    },
    answers=(409, 502, 503),
)
def identity_create(
    engine: NodeEngine, username: str, preferred_servers: list[str] | None = None, join_network: bool = False
) -> defer.Deferred[dict[str, Any] | ApiResult]:
    """Generate a master key and register a new identity on at least two identity servers.

    Nothing is saved on this node unless every chosen server accepted the identity, so a
    taken name or an unreachable server leaves no half-made identity behind.
    """
    check_username(username)
    keys = registry(engine)
    _no_identity_yet(engine)
    if engine.keys.master() is not None:
        raise Conflict(
            "a master key without an identity is present; erase it with identity_erase(erase_private_key=true)"
        )
    minimum = engine.config.get("services/identity-propagate/min-servers")
    d = _servers(engine, list(preferred_servers or []))

    def register(servers: list[IdServerAddress]) -> defer.Deferred[Identity]:
        if len(servers) < minimum:
            raise InvalidInput(
                f"an identity needs at least {minimum} identity servers, {len(servers)} known: "
                "pass preferred_servers or set up the network config"
            )
        machine = IdRegistrator(
            username=username,
            servers=servers[: max(minimum, 2)],
            key_size=engine.config.get("personal/private-key-size"),
            keys=keys,
            local=engine.local_identity,
            cache=engine.identity_cache,
            http_post=engine.http_post,
            run_blocking=engine.run_blocking,
            clock=engine.reactor,
            registry=engine.automats,
            log=engine.logger("bitdust.identity"),
        )
        machine.start()

        def destroyed(outcome: Identity | Failure) -> Identity | Failure:
            machine.destroy()
            return outcome

        return machine.result.addBoth(destroyed)

    def appeared(identity: Identity) -> dict[str, Any]:
        return _identity_appeared(engine, identity)

    def joined(result: dict[str, Any]) -> dict[str, Any] | defer.Deferred[ApiResult]:
        return _join(engine, join_network, result)

    return d.addCallback(register).addCallback(appeared).addCallback(joined)


@api_method(
    "POST",
    "identity/backup/v1",
    params={"destination_filepath": "absolute path of the file to write (mode 0600): IDURL + private key"},
    constraints={"destination_filepath": text()},
    answers=(409, 503),
)
def identity_backup(engine: NodeEngine, destination_filepath: str) -> defer.Deferred[dict[str, Any]]:
    """Write the IDURL and the master private key to a new file, the one way to recover this identity.

    The file is created, never replaced: an existing path (file, folder or symbolic link), a
    missing folder or a name the file system cannot hold is a 400 and nothing is written.
    """
    identity = _current(engine)
    master = registry(engine).master()
    if master is None:
        raise Conflict("the master key is missing; this identity cannot be backed up")
    path = check_backup_path(destination_filepath)
    data = f"{identity.idurl.url}\n{master.key.private_text()}".encode()
    log = engine.logger("bitdust.identity")
    d = engine.run_blocking(write_new_file, path, data, mode=0o600, log=log)
    return d.addCallback(lambda _: {"destination_filepath": str(path), "idurl": identity.idurl.url, "size": len(data)})


def split_key_source(text: str) -> tuple[str | None, str]:
    """``identity_backup`` text: an optional IDURL line, then the private key."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if first.strip().startswith("http://"):
        return first.strip(), rest
    return None, stripped


@api_method(
    "POST",
    "identity/recover/v1",
    params={
        "private_key_source": "the identity_backup text: IDURL line and private key (PEM or OpenSSH)",
        "known_idurl": "the IDURL, when the text has none (or to override it)",
        "join_network": "start the network services afterwards and wait until the node is connected",
    },
    constraints={"private_key_source": text(max_length=MAX_KEY_SOURCE), "known_idurl": text()},
    answers=(409, 502, 503),
)
def identity_recover(
    engine: NodeEngine, private_key_source: str, known_idurl: str | None = None, join_network: bool = False
) -> defer.Deferred[dict[str, Any] | ApiResult]:
    """Restore an identity from its backup: fetch the published document, check the key, save both."""
    keys = registry(engine)
    _no_identity_yet(engine)
    if len(private_key_source) > MAX_KEY_SOURCE:
        raise InvalidInput("private_key_source is too large")
    idurl_text, key_text = split_key_source(private_key_source)
    idurl_text = known_idurl or idurl_text
    if not idurl_text:
        raise InvalidInput("no IDURL: put it on the first line of private_key_source or pass known_idurl")
    idurl = IdUrl.parse(idurl_text)
    key = RsaKey.from_private_text(key_text)
    if not key.has_private:
        raise InvalidInput("private_key_source holds no private key")

    def check(identity: Identity) -> defer.Deferred[Identity]:
        if RsaKey.from_public_text(identity.public_key) != key:
            raise InvalidInput(f"the private key does not match the identity published at {idurl.url}")

        def save() -> None:
            keys.install_master(key, identity.global_id, identity.idurl.url)
            try:
                engine.local_identity.save(identity)
            except BaseException:
                keys.erase_master()
                raise

        return engine.run_blocking(save).addCallback(lambda _: identity)

    def appeared(identity: Identity) -> dict[str, Any]:
        return _identity_appeared(engine, identity)

    def joined(result: dict[str, Any]) -> dict[str, Any] | defer.Deferred[ApiResult]:
        return _join(engine, join_network, result)

    return engine.identity_cache.fetch(idurl).addCallback(check).addCallback(appeared).addCallback(joined)


@api_method(
    "DELETE",
    "identity/erase/v1",
    params={"erase_private_key": "also delete the master key (without a backup the identity is lost for good)"},
    answers=(409,),
)
def identity_erase(engine: NodeEngine, erase_private_key: bool = False) -> defer.Deferred[dict[str, Any]]:
    """Forget this node's identity (and optionally its master key); network services stop first."""
    identity = _current(engine)
    keys = engine.keys

    def erase() -> bool:
        engine.local_identity.erase()
        return keys.erase_master() if erase_private_key else False

    def erased(key_erased: bool) -> dict[str, Any]:
        sync_key_owner(engine.local_identity, engine.keys)
        engine.services.recheck_installed()
        engine.events.send("local-identity-erased", {"global_id": identity.global_id})
        return {"erased": True, "global_id": identity.global_id, "private_key_erased": key_erased}

    # Everything that speaks for the identity (the gateway signs with it) stops before it goes.
    stopping = engine.services.suspend("service_gateway") if "service_gateway" in engine.services.names() else None
    d = stopping if stopping is not None else defer.succeed(None)
    return d.addCallback(lambda _: engine.run_blocking(erase)).addCallback(erased)


@api_method("PUT", "identity/rotate/v1", answers=(409, 502, 503))
def identity_rotate(engine: NodeEngine) -> defer.Deferred[dict[str, Any]]:
    """Move the identity to other identity servers of the network config, even if all are healthy.

    Unhealthy sources are replaced, the primary source moves to a server not used before, the
    revision grows and the key stays; the new document is published on every new source.
    """
    _current(engine)
    registry(engine)

    def rotated(rotation: Rotation) -> dict[str, Any]:
        result = rotation.identity.to_json()
        result.update({"old_sources": list(rotation.old_sources), "rotated": rotation.rotated})
        return result

    return rotate_identity(engine, force=True).addCallback(rotated)


@api_method("GET", "identity/cache/list/v1")
def identity_cache_list(engine: NodeEngine) -> list[CachedIdentity]:
    """Identities of other users this node has fetched and cached."""
    return engine.identity_cache.list()
