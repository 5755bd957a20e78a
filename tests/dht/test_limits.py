"""Who a datagram is from (bitdust.dht.limits) and which addresses proved themselves (bitdust.dht.addresses)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from twisted.internet import task

from bitdust.dht.addresses import TOKEN_PERIOD, AddressGuard
from bitdust.dht.limits import TokenBuckets, sender_of
from bitdust.dht.store import DhtStore, SqliteBackend


def test_a_sender_is_a_host_not_a_port() -> None:
    assert sender_of(("10.0.0.1", 1)) == sender_of(("10.0.0.1", 2)) == "10.0.0.1"
    assert sender_of(("::ffff:10.0.0.1", 3)) == "10.0.0.1"
    assert sender_of(("2001:db8:1:2:3::4", 5)) == sender_of(("2001:db8:1:2:ffff::1", 6)) == "2001:db8:1:2::/64"
    # loopback: the processes of this machine (a sandbox), one party per port
    assert sender_of(("127.0.0.1", 1)) != sender_of(("127.0.0.1", 2))


def test_token_buckets_refill_and_are_bounded() -> None:
    clock = task.Clock()
    buckets = TokenBuckets(clock, rate=1.0, burst=2.0, max_keys=2)
    assert buckets.take("a") and buckets.take("a") and not buckets.take("a")
    clock.advance(1)
    assert buckets.take("a") and not buckets.take("a", 1)
    assert buckets.take("b", 2) and buckets.available("b") == 0


def test_a_token_proves_its_address_for_two_periods_only() -> None:
    clock = task.Clock()
    guard = AddressGuard(clock, b"s" * 32)
    token = guard.token_for(("10.0.0.1", 1))
    assert not guard.check_token(("10.0.0.1", 2), token)  # another port: another address
    assert not guard.is_verified(("10.0.0.1", 1))
    clock.advance(TOKEN_PERIOD)
    assert guard.check_token(("10.0.0.1", 1), token) and guard.is_verified(("10.0.0.1", 1))
    clock.advance(2 * TOKEN_PERIOD)
    assert not guard.check_token(("10.0.0.1", 1), token)
    assert AddressGuard(clock, b"t" * 32).token_for(("10.0.0.1", 1)) != guard.token_for(("10.0.0.1", 1))


def test_an_unverified_address_is_sent_a_few_times_what_it_sent() -> None:
    clock = task.Clock()
    guard = AddressGuard(clock, b"s" * 32, factor=3, allowance=100, window=60)
    address = ("10.0.0.1", 1)
    guard.received(address, 50)
    assert guard.may_send(address, 200) and not guard.may_send(address, 51) and guard.may_send(address, 50)
    clock.advance(60)
    assert not guard.may_send(address, 101)  # a new window starts from nothing
    guard.mark_verified(address)
    assert guard.may_send(address, 100_000)


def test_a_database_written_before_senders_were_recorded_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE dht_values (layer INTEGER NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
        " record_type TEXT NOT NULL, stored_at REAL NOT NULL, expires_at REAL NOT NULL, publisher BLOB NOT NULL,"
        " original INTEGER NOT NULL, revision INTEGER, PRIMARY KEY (layer, key))"
    )
    db.execute("INSERT INTO dht_values VALUES (0, 'k', X'7B7D', 'skip_validation', 0, 100, X'00', 0, NULL)")
    db.commit()
    db.close()
    store = DhtStore(backend=SqliteBackend(path))
    assert store.load() == 1 and store.get(0, "k", 1.0).sender == ""
    store.close()
