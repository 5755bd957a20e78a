"""Publishing our identity document on identity servers (registration and updates)."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.main.errors import Conflict, RemoteFailure
from bitdust.userid.http_fetch import HttpPost
from bitdust.userid.identity import Identity
from bitdust.userid.idurl import IdUrl

if TYPE_CHECKING:
    from bitdust.crypt.rsa_key import RsaKey
    from bitdust.userid.identity_cache import IdentityCache
    from bitdust.userid.local_identity import LocalIdentity

PUBLISH_TIMEOUT = 15.0


class IdentityPublishError(RemoteFailure):
    """At least one identity server refused or did not answer; the message says which and why.

    The fault is with a remote server; :class:`IdentityPublishConflict` when one of them holds the
    name for another key (or a newer revision).
    """

    def __init__(self, problems: dict[str, str]) -> None:
        message = "; ".join(f"{server}: {reason}" for server, reason in sorted(problems.items()))
        super().__init__(f"identity not published: {message}")
        self.problems = problems


class IdentityPublishConflict(Conflict, IdentityPublishError):
    """A server answered 409: the name is taken by another key, or it holds a newer revision."""


def _reason(status: int, body: bytes) -> str:
    try:
        errors = json.loads(body.decode("utf-8")).get("errors") or []
    except (UnicodeDecodeError, ValueError, AttributeError):
        errors = []
    detail = f": {errors[0]}" if errors else ""
    if status == 409:
        return f"refused (409){detail or ': the name is taken by another key'}"
    return f"refused ({status}){detail}"


def publish(http_post: HttpPost, identity: Identity, *, timeout: float = PUBLISH_TIMEOUT) -> defer.Deferred[list[str]]:
    """POST the signed document to every source at once; fires with the sources when all accepted."""
    body = identity.to_xml().encode("utf-8")
    sources: list[IdUrl] = list(identity.sources)

    def one(idurl: IdUrl) -> defer.Deferred[tuple[str, str | None]]:
        d = http_post(idurl.url, body, timeout)

        def answered(response: tuple[int, bytes]) -> tuple[str, str | None]:
            status, data = response
            return idurl.server, None if status == 200 else _reason(status, data)

        def failed(failure: Failure) -> tuple[str, str | None]:
            return idurl.server, f"unreachable: {failure.getErrorMessage()}"

        return d.addCallbacks(answered, failed)

    def collect(results: list[tuple[str, str | None]]) -> list[str]:
        problems = {server: reason for server, reason in results if reason is not None}
        if problems:
            conflict = any("(409)" in reason for reason in problems.values())
            raise (IdentityPublishConflict if conflict else IdentityPublishError)(problems)
        return [idurl.url for idurl in sources]

    return defer.gatherResults([one(s) for s in sources], consumeErrors=True).addCallback(collect)


@defer.inlineCallbacks
def publish_next_revision(
    current: Identity,
    key: RsaKey,
    *,
    http_post: HttpPost,
    run_blocking: Callable[..., defer.Deferred[Any]],
    local: LocalIdentity,
    cache: IdentityCache,
    before_save: Callable[[Identity], None] | None = None,
    **changes: object,
) -> Generator[defer.Deferred[Any], Any, Identity]:
    """Our identity with ``changes`` as the next revision: signed (in a worker thread), published on
    every source, then saved here and in our cache. Nothing is saved unless every source accepted.

    ``before_save(updated)`` runs in the worker thread just before the document is saved.
    """
    updated = current.with_changes(**changes, revision=current.revision + 1)
    updated = yield run_blocking(updated.signed, key)
    yield publish(http_post, updated)

    def save() -> None:
        if before_save is not None:
            before_save(updated)
        local.save(updated)

    yield run_blocking(save)
    yield cache.store(updated, verified=True)  # we signed it
    return updated
