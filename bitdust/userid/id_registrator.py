"""Actions of the identity registrator (source: automats/id_registrator.md)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from bitdust.crypt.key_registry import KeyRegistry
from bitdust.crypt.rsa_key import RsaKey
from bitdust.main.logs import log_failure
from bitdust.main.settings.network_config import IdServerAddress
from bitdust.userid.http_fetch import HttpPost
from bitdust.userid.id_publish import publish
from bitdust.userid.id_registrator_machine import IdRegistratorMachine
from bitdust.userid.identity import Identity
from bitdust.userid.identity_cache import IdentityCache
from bitdust.userid.idurl import IdUrl, check_username
from bitdust.userid.local_identity import LocalIdentity

IDENTITY_VERSION = "bitdust-node/1"


def identity_date(now: float | None = None) -> str:
    """The human date the original put in identities: ``Nov 28, 2026``."""
    return time.strftime("%b %d, %Y", time.gmtime(now))


class IdRegistrator(IdRegistratorMachine):
    """One identity creation; ``result`` fires with the saved identity or fails with the reason."""

    def __init__(
        self,
        *,
        username: str,
        servers: Sequence[IdServerAddress],
        key_size: int,
        keys: KeyRegistry,
        local: LocalIdentity,
        cache: IdentityCache,
        http_post: HttpPost,
        run_blocking: Callable[..., defer.Deferred[Any]],
        contacts: Sequence[str] = (),
        **automat_kwargs: Any,
    ) -> None:
        self.username = check_username(username)
        self.servers = list(servers)
        self.key_size = key_size
        self.keys = keys
        self.local = local
        self.cache = cache
        self.http_post = http_post
        self.run_blocking = run_blocking
        self.contacts = tuple(contacts)
        self.key: RsaKey | None = None
        self.identity: Identity | None = None
        self.result: defer.Deferred[Identity] = defer.Deferred()
        super().__init__(instance_id=f"id_registrator[{username}]", **automat_kwargs)
        self.add_state_changed_callback(self._watch_failure)

    def _watch_failure(self, automat: Any, old: str, new: str, event: str) -> None:
        # An exception inside an action lands in FAILED without do_report_failure: answer anyway.
        if new == "FAILED" and not self.result.called:
            self.result.errback(self.last_error or RuntimeError("identity registration failed"))

    def _then(self, d: defer.Deferred[Any], done: Callable[[Any], None], failed: Callable[..., None]) -> None:
        """Send ``done(result)`` when ``d`` fires, ``failed(failure=...)`` when it fails."""
        d.addCallbacks(done, lambda f: failed(failure=f))
        d.addErrback(log_failure(self.log, "identity registration step failed"))

    def do_generate_key(self) -> None:
        self._then(
            self.run_blocking(RsaKey.generate, self.key_size), lambda key: self.key_ready(key=key), self.key_failed
        )

    def do_build_identity(self, *, key: RsaKey) -> None:
        self.key = key
        sources = tuple(IdUrl(host=s.host, port=s.http_port, name=self.username) for s in self.servers)
        unsigned = Identity(
            sources=sources,
            contacts=self.contacts,
            public_key=key.public_openssh(),
            revision=0,
            date=identity_date(),
            version=IDENTITY_VERSION,
        )
        self.identity = unsigned.signed(key)

    def do_register_all(self, *, key: RsaKey) -> None:
        assert self.identity is not None
        self._then(publish(self.http_post, self.identity), lambda _: self.registered(), self.register_failed)

    def do_save_identity(self) -> None:
        assert self.identity is not None and self.key is not None
        identity, key = self.identity, self.key

        def save() -> None:
            self.keys.install_master(key, identity.global_id, identity.idurl.url)
            try:
                self.local.save(identity)
            except BaseException:
                self.keys.erase_master()  # no half-made identity: key and document go together
                raise

        d = self.run_blocking(save)
        d.addCallback(lambda _: self.cache.store(identity))
        self._then(d, lambda _: self.saved(), self.save_failed)

    def do_report_success(self) -> None:
        assert self.identity is not None
        self.result.callback(self.identity)

    def do_report_failure(self, *, failure: Failure) -> None:
        if not self.result.called:
            self.result.errback(failure)
