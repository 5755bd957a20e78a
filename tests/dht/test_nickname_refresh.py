"""service_entangled_dht re-signs its nickname before the record's signed lifetime ends."""

from __future__ import annotations

import types
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from bitdust.crypt.rsa_key import RsaKey
from bitdust.dht import records
from bitdust.dht.nickname import NICKNAME_REFRESH
from bitdust.raid.eccmap import supplier_positions
from bitdust.services.service_entangled_dht import NICKNAME_RETRY, EntangledDhtService
from tests.dht.helpers import ALICE, Net
from tests.dht.record_builders import identity_document


def _service(net: Net, key: RsaKey, *, signer: Any) -> EntangledDhtService:
    """The DHT service of alice (identity under ``key``) on a fake engine whose master key is ``signer``."""
    config = {"personal/nickname": ""}
    engine = types.SimpleNamespace(
        reactor=net.clock,
        config=types.SimpleNamespace(get=config.get),
        local_identity=types.SimpleNamespace(current=identity_document(key, [ALICE])),
        keys=types.SimpleNamespace(master=lambda: types.SimpleNamespace(key=signer)),
        run_blocking=lambda fn, *args: defer.maybeDeferred(fn, *args),
        logger=lambda namespace: Logger(namespace=namespace, observer=lambda event: None),
        log=Logger(observer=lambda event: None),
        automats=None,
    )
    return EntangledDhtService(engine)


def test_the_owner_keeps_its_nickname_past_the_signed_lifetime() -> None:
    key = RsaKey.generate(1024)

    def public_key(idurl: str) -> defer.Deferred[RsaKey]:
        return defer.succeed(key.public_key()) if idurl == ALICE else defer.fail(LookupError(idurl))

    net: Net = Net(
        validator=records.RecordValidator(public_key, clock=lambda: net.clock.now, ecc_layouts=supplier_positions())
    ).build(6)
    service = _service(net, key, signer=key)
    service.node = net.nodes[1]
    service.start_nickname_publisher()
    net.settle()
    assert service.nickname["state"] == "published" and service.nickname["key"] == "alice:0"

    def holder() -> dict[str, Any] | None:
        found = net.wait(net.nodes[4].get_value("alice:0", 0, "nickname"))
        return found.value.record if found.value is not None else None

    first = holder()
    for _ in range(4):  # four refresh periods: past one whole signed lifetime
        net.settle(NICKNAME_REFRESH + 60)
        assert holder() is not None and holder()["idurl"] == ALICE
    assert net.clock.now > first["timestamp"] + records.NICKNAME_LIFETIME
    assert holder()["timestamp"] > first["timestamp"]
    publisher = service.nickname_publisher
    assert publisher is not None
    service.stop_nickname_publisher()  # a stopped service schedules nothing more
    assert publisher.destroyed and publisher.next_refresh_at is None and service.nickname_publisher is None
    assert service.nickname["state"] == "published"  # the last outcome stays for the next start


def test_a_failed_publication_is_tried_again_soon() -> None:
    net = Net().build(3)
    broken = types.SimpleNamespace(sign=lambda data: (_ for _ in ()).throw(OSError("key store unreadable")))
    key = RsaKey.generate(1024)
    service = _service(net, key, signer=broken)
    service.node = net.nodes[1]
    service.start_nickname_publisher()
    net.settle()
    assert service.nickname["state"] == "failed" and "key store unreadable" in service.nickname["reason"]
    publisher = service.nickname_publisher
    assert publisher is not None
    history = publisher.history
    failed_at = next(t.time for t in history if t.event == "publish-failed")
    # the retry is due NICKNAME_RETRY after the failure: still waiting, or already under way
    due = publisher.next_refresh_at or next(t.time for t in history if t.event == "refresh")
    assert due - failed_at <= NICKNAME_RETRY
    service.stop_nickname_publisher()


def test_changes_during_a_publication_make_one_more_publication() -> None:
    net = Net().build(3)
    key = RsaKey.generate(1024)
    service = _service(net, key, signer=key)
    service.node = net.nodes[1]
    service.start_nickname_publisher()
    service._on_event({"id": "local-identity-set"})  # the identity and the nickname change while it runs
    service._on_option("personal/nickname", "alice", "")
    net.settle()
    publisher = service.nickname_publisher
    assert publisher is not None
    assert [(t.event, t.to_state) for t in publisher.history][:5] == [
        ("publish", "PUBLISHING"),
        ("publish", "PUBLISH_AGAIN"),
        ("publish", "PUBLISH_AGAIN"),
        ("published", "PUBLISHING"),
        ("published", "REFRESH_WAIT"),
    ]
    service.stop_nickname_publisher()
    service.publish_nickname_later()  # a stopped service publishes nothing
    assert publisher.history[-1].to_state == "STOPPED" and service.nickname_publisher is None
