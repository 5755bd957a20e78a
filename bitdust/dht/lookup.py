"""Iterative parallel lookups: Kademlia's FIND_NODE and FIND_VALUE procedures.

Up to ``alpha`` requests are in flight at once, always to the nearest not yet asked contacts of
the shortlist; the lookup ends when the ``k`` nearest contacts it knows have all answered or
failed (or, for a value, once a valid value arrived). Answers are untrusted: an answer for another
key, malformed contacts or a value that breaks its record type's rules count against the node
that sent it and never end the lookup.

``hops`` is the length of the discovery chain to the node that answered (the value's holder, or
the nearest node found): contacts we started with are one hop away, a contact first learned from
a node ``d`` hops away is ``d + 1`` hops away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.dht.errors import MessageError, RecordError, RpcError, RpcTimeout
from bitdust.dht.messages import Contact, Message, RequestArgs, check_value_fields, parse_contacts
from bitdust.dht.node_id import distance


@attrs.define
class Responder:
    """A node that answered during the lookup, with what it said about itself."""

    contact: Contact
    attached: bool
    idurl: str


@attrs.define
class FoundValue:
    key: str
    value: bytes
    record_type: str
    ttl: int
    record: dict[str, Any]
    holder: Contact
    revision: int | None = None


@attrs.define
class LookupResult:
    target: bytes
    closest: list[Contact]
    responders: list[Responder]
    value: FoundValue | None = None
    hops: int = 0
    queried: int = 0
    failed: int = 0
    refused_values: int = 0
    errors: list[str] = attrs.field(factory=list)


class Lookup:
    """One lookup on one layer. ``rpc(contact, method, args)`` fires with the answer ``Message``.

    ``validate(key, value, record_type)`` fires with the record or fails with RecordError;
    ``revision(record)`` orders versions of revisioned types (None: first valid value wins).
    ``on_failure(contact, reason)`` tells the node that a contact timed out or lied.
    """

    def __init__(
        self,
        *,
        own_id: bytes,
        target: bytes,
        start: list[Contact],
        rpc: Callable[[Contact, str, RequestArgs], defer.Deferred[Message]],
        alpha: int = 3,
        k: int = 8,
        key: str | None = None,
        record_type: str | None = None,
        validate: Callable[[str, bytes, str], defer.Deferred[dict[str, Any]]] | None = None,
        revision: Callable[[dict[str, Any]], int | None] | None = None,
        on_failure: Callable[[Contact, str], None] | None = None,
    ) -> None:
        self.own_id = own_id
        self.target = target
        self.key = key
        self.record_type = record_type
        self.alpha = alpha
        self.k = k
        self._rpc = rpc
        self._validate = validate
        self._revision = revision
        self._on_failure = on_failure
        self._contacts: dict[bytes, Contact] = {}
        self._depth: dict[bytes, int] = {}
        self._queried: set[bytes] = set()
        self._failed: set[bytes] = set()
        self._responders: dict[bytes, Responder] = {}
        self._in_flight = 0
        self._validating = 0
        self._value: FoundValue | None = None
        self._stop_querying = False
        self._finish_now = False
        self._refused = 0
        self._errors: list[str] = []
        self._done: defer.Deferred[LookupResult] = defer.Deferred()
        for contact in start:
            self._learn(contact, 1)

    # -- driving -------------------------------------------------------------------------------

    def run(self) -> defer.Deferred[LookupResult]:
        self._step()
        return self._done

    def _sorted(self) -> list[Contact]:
        alive = [c for c in self._contacts.values() if c.node_id not in self._failed]
        alive.sort(key=lambda c: distance(c.node_id, self.target))
        return alive

    def _step(self) -> None:
        # re-entrant: an answer that is already there runs its own _step inside _query
        if self._done.called:
            return
        if self._finish_now:
            self._finish()
            return
        if not self._stop_querying:
            for contact in self._sorted()[: self.k]:
                if self._done.called or self._in_flight >= self.alpha:
                    break
                if contact.node_id not in self._queried:
                    self._query(contact)
        if not self._done.called and self._in_flight == 0 and self._validating == 0:
            self._finish()

    def _learn(self, contact: Contact, depth: int) -> None:
        if contact.node_id == self.own_id:
            return
        if contact.node_id not in self._contacts:
            self._contacts[contact.node_id] = contact
            self._depth[contact.node_id] = depth
        elif depth < self._depth[contact.node_id]:
            self._depth[contact.node_id] = depth

    def _query(self, contact: Contact) -> None:
        self._queried.add(contact.node_id)
        self._in_flight += 1
        if self.key is not None:
            d = self._rpc(contact, "find_value", {"k": self.key})
        else:
            d = self._rpc(contact, "find_node", {"n": self.target})
        d.addCallbacks(self._answered, self._no_answer, callbackArgs=(contact,), errbackArgs=(contact,))
        d.addErrback(self._crashed)

    def _crashed(self, failure: Failure) -> None:
        self._errors.append(failure.getErrorMessage())
        if not self._done.called:
            self._done.errback(failure)

    # -- answers -------------------------------------------------------------------------------

    def _answered(self, message: Message, contact: Contact) -> None:
        self._in_flight -= 1
        if self._done.called:
            return
        try:
            self._read_answer(message, contact)
        except MessageError as exc:
            self._lied(contact, exc.message)
        self._step()

    def _read_answer(self, message: Message, contact: Contact) -> None:
        result = message.result
        depth = self._depth.get(contact.node_id, 1)
        if self.key is not None and "v" in result:
            if result.get("k") != self.key:
                raise MessageError("answered for a key it was not asked about")
            value, record_type, ttl = check_value_fields(result)
            self._responders[contact.node_id] = Responder(contact, message.attached, message.idurl)
            if self.record_type is not None and record_type != self.record_type:
                self._refused += 1
                self._errors.append(
                    f"{contact.host}:{contact.port} holds a {record_type} record, not {self.record_type}"
                )
                return
            self._check_value(value, record_type, ttl, contact)
            return
        contacts = parse_contacts(result.get("c", []))
        self._responders[contact.node_id] = Responder(contact, message.attached, message.idurl)
        for found in contacts:
            self._learn(found, depth + 1)

    def _check_value(self, value: bytes, record_type: str, ttl: int, holder: Contact) -> None:
        if self._validate is None:
            return
        self._validating += 1
        assert self.key is not None
        key = self.key
        d = self._validate(key, value, record_type)

        def valid(record: dict[str, Any]) -> None:
            revision = self._revision(record) if self._revision is not None else None
            if self._value is None or (revision is not None and (self._value.revision or -1) < revision):
                self._value = FoundValue(key, value, record_type, ttl, record, holder, revision)
            # an unversioned value ends the lookup now; a versioned one lets the answers already
            # in flight compete (the highest revision wins) but nobody new is asked
            self._stop_querying = True
            self._finish_now = self._finish_now or revision is None

        def invalid(failure: Failure) -> None:
            failure.trap(RecordError)
            self._refused += 1
            self._errors.append(f"{holder.host}:{holder.port}: {failure.value.message}")

        def settled(_: Any) -> None:
            self._validating -= 1
            self._step()

        d.addCallbacks(valid, invalid)
        d.addErrback(self._crashed)
        d.addBoth(settled)

    def _no_answer(self, failure: Failure, contact: Contact) -> None:
        self._in_flight -= 1
        failure.trap(RpcTimeout, RpcError)
        self._failed.add(contact.node_id)
        if self._on_failure is not None:
            reason = "timeout" if failure.check(RpcTimeout) else f"error:{failure.value.code}"
            self._on_failure(contact, reason)
        self._step()

    def _lied(self, contact: Contact, reason: str) -> None:
        self._failed.add(contact.node_id)
        self._responders.pop(contact.node_id, None)
        self._errors.append(f"{contact.host}:{contact.port}: {reason}")
        if self._on_failure is not None:
            self._on_failure(contact, "lie")

    def _finish(self) -> None:
        answered = [c for c in self._sorted() if c.node_id in self._responders]
        closest = answered[: self.k]
        if self._value is not None:
            hops = self._depth.get(self._value.holder.node_id, 1)
        elif closest:
            hops = self._depth.get(closest[0].node_id, 1)
        else:
            hops = 0
        self._done.callback(
            LookupResult(
                target=self.target,
                closest=closest,
                responders=list(self._responders.values()),
                value=self._value,
                hops=hops,
                queried=len(self._queried),
                failed=len(self._failed),
                refused_values=self._refused,
                errors=self._errors[-20:],
            )
        )
