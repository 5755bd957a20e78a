"""The k-bucket routing table of one layer.

Bucket ``i`` holds contacts whose XOR distance from our id has its highest bit at ``i``; each
keeps at most ``k`` contacts, least recently seen first, plus up to ``k`` replacements. As in
Kademlia, a full bucket prefers the old contacts (long-lived nodes tend to stay): a newcomer waits
among the replacements while the caller pings the oldest one, which is evicted only if it fails.

Ids cost nothing, hosts do: one sender (:func:`~bitdust.dht.limits.sender_of`, a host) holds at
most ``per_sender_bucket`` contacts of a bucket and ``per_sender`` of the table, so one machine
with many ports and made-up ids cannot fill our buckets and surround us (an eclipse).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from bitdust.dht.limits import sender_of
from bitdust.dht.messages import Contact
from bitdust.dht.node_id import bucket_index, distance


class Bucket:
    __slots__ = ("contacts", "replacements", "last_lookup")

    def __init__(self, now: float) -> None:
        self.contacts: OrderedDict[bytes, Contact] = OrderedDict()
        self.replacements: OrderedDict[bytes, Contact] = OrderedDict()
        self.last_lookup = now


class RoutingTable:
    def __init__(self, own_id: bytes, *, k: int = 8, per_sender_bucket: int = 2, per_sender: int = 8) -> None:
        self.own_id = own_id
        self.k = k
        self.per_sender_bucket = per_sender_bucket
        self.per_sender = per_sender
        self._buckets: dict[int, Bucket] = {}
        self._by_address: dict[tuple[str, int], bytes] = {}
        self._by_sender: dict[str, int] = {}
        #: contacts turned away because their host already had its share
        self.refused = 0

    def __len__(self) -> int:
        return sum(len(b.contacts) for b in self._buckets.values())

    def __contains__(self, node_id: object) -> bool:
        return self.get(node_id) is not None  # type: ignore[arg-type]

    def get(self, node_id: bytes) -> Contact | None:
        bucket = self._buckets.get(bucket_index(self.own_id, node_id))
        return bucket.contacts.get(node_id) if bucket is not None else None

    def contacts(self) -> list[Contact]:
        return [c for b in self._buckets.values() for c in b.contacts.values()]

    def bucket_count(self) -> int:
        """How many buckets hold at least one contact."""
        return sum(1 for b in self._buckets.values() if b.contacts)

    def add(self, contact: Contact, now: float) -> Contact | None:
        """Record that ``contact`` is alive; returns the oldest contact to ping when its bucket is full.

        A known id keeps the address it was first seen at: a node claiming somebody else's id from
        another address cannot take over the entry while the original answers. One address holds
        one entry: a new id from a known address (a restarted node) replaces the old one, so one
        host cannot fill the table with made-up ids.
        """
        index = bucket_index(self.own_id, contact.node_id)
        if index < 0:
            return None
        previous = self._by_address.get(contact.address)
        if previous is not None and previous != contact.node_id:
            self.remove(previous)
        bucket = self._buckets.get(index)
        if bucket is None:
            bucket = self._buckets[index] = Bucket(now)
        known = bucket.contacts.get(contact.node_id)
        if known is not None:
            if known.address == contact.address:
                bucket.contacts.move_to_end(contact.node_id)
            return None
        if not self._has_room_for(bucket, contact):
            self.refused += 1
            return None
        if len(bucket.contacts) < self.k:
            self._insert(bucket, contact)
            return None
        bucket.replacements[contact.node_id] = contact
        bucket.replacements.move_to_end(contact.node_id)
        while len(bucket.replacements) > self.k:
            bucket.replacements.popitem(last=False)
        return next(iter(bucket.contacts.values()))

    def remove(self, node_id: bytes) -> bool:
        """Forget a dead or lying contact; the newest replacement takes its place."""
        index = bucket_index(self.own_id, node_id)
        bucket = self._buckets.get(index)
        if bucket is None:
            return False
        bucket.replacements.pop(node_id, None)
        removed = bucket.contacts.pop(node_id, None)
        if removed is None:
            return False
        if self._by_address.get(removed.address) == node_id:
            del self._by_address[removed.address]
        sender = sender_of(removed.address)
        left = self._by_sender[sender] - 1
        if left:
            self._by_sender[sender] = left
        else:
            del self._by_sender[sender]
        while bucket.replacements:
            _, replacement = bucket.replacements.popitem(last=True)
            if replacement.address not in self._by_address and self._has_room_for(bucket, replacement):
                self._insert(bucket, replacement)
                break
        return True

    def _has_room_for(self, bucket: Bucket, contact: Contact) -> bool:
        """Whether the contact's host is below its share of the bucket and of the table."""
        sender = sender_of(contact.address)
        if self._by_sender.get(sender, 0) >= self.per_sender:
            return False
        in_bucket = sum(1 for c in bucket.contacts.values() if sender_of(c.address) == sender)
        return in_bucket < self.per_sender_bucket

    def _insert(self, bucket: Bucket, contact: Contact) -> None:
        bucket.contacts[contact.node_id] = contact
        bucket.replacements.pop(contact.node_id, None)
        self._by_address[contact.address] = contact.node_id
        sender = sender_of(contact.address)
        self._by_sender[sender] = self._by_sender.get(sender, 0) + 1

    def closest(self, target: bytes, count: int, exclude: Iterable[bytes] = ()) -> list[Contact]:
        """The ``count`` known contacts nearest to ``target``."""
        skip = set(exclude)
        candidates = [c for c in self.contacts() if c.node_id not in skip]
        candidates.sort(key=lambda c: distance(c.node_id, target))
        return candidates[:count]

    def touch_bucket(self, target: bytes, now: float) -> None:
        """A lookup for ``target`` refreshed its bucket."""
        bucket = self._buckets.get(bucket_index(self.own_id, target))
        if bucket is not None:
            bucket.last_lookup = now

    def stale_buckets(self, now: float, interval: float) -> list[int]:
        """Indexes of non-empty buckets not looked up for ``interval`` seconds (to refresh)."""
        return [i for i, b in sorted(self._buckets.items()) if b.contacts and now - b.last_lookup >= interval]

    def mark_refreshed(self, index: int, now: float) -> None:
        bucket = self._buckets.get(index)
        if bucket is not None:
            bucket.last_lookup = now
