"""dht_bootstrap: how a DHT node joins through its seeds (see automats/dht_bootstrap.md).

The machine owns the seed list, the seeds' contacts, the attempt count and both backoffs (the
retry of a whole join attempt while no seed answers, the re-check of seeds that were down when
the node joined). It knows the node only through two callables: ``ping(seed)`` (a layer-0 ping,
firing with the answering :class:`~bitdust.dht.messages.Message`) and ``join_layers()`` (look up
our own id on every active layer), so a test drives it with a fake ping on a ``task.Clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from bitdust.dht.bootstrap_machine import DhtBootstrapMachine
from bitdust.dht.messages import Contact
from bitdust.main.logs import log_failure

Address = tuple[str, int]
# What one round of pings found: each seed's contact, or None for a seed that did not answer.
Answers = dict[Address, Contact | None]

#: The machine's states as ``bootstrap.state`` has always reported them.
BOOTSTRAP_STATES: dict[str, str] = {
    "IDLE": "idle",
    "NO_SEEDS": "no-seeds",
    "JOINING": "joining",
    "RETRY_WAIT": "retrying",
    "JOINED": "joined",
    "STOPPED": "stopped",
}


class DhtBootstrap(DhtBootstrapMachine):
    """``join(seeds=...)`` starts; ``bootstrap_state``, ``attempts``, ``seeds_down`` and
    ``next_retry_at`` say how far it got; ``stop()`` ends it and destroys the machine (both are
    the generated event methods)."""

    def __init__(
        self,
        *,
        ping: Callable[[Address], defer.Deferred[Any]],
        join_layers: Callable[[], object] = lambda: None,
        backoff_min: float = 1.0,
        backoff_max: float = 300.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ping = ping
        self.join_layers = join_layers
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.seeds: list[Address] = []
        self.seed_contacts: dict[Address, Contact] = {}
        self.seeds_down: list[Address] = []
        self.attempts = 0
        self.next_retry_at: float | None = None
        self._recheck_delay = backoff_min
        self._serial = 0  # answers of an older attempt (or after stop) are dropped

    # -- what the node reads -------------------------------------------------------------------

    @property
    def bootstrap_state(self) -> str:
        """The state as ``network_status`` reports it; a destroyed machine does nothing: stopped."""
        return "stopped" if self.destroyed else BOOTSTRAP_STATES[self.state]

    # -- conditions ---------------------------------------------------------------------------

    def is_seed_given(self, *, seeds: list[Address]) -> bool:
        """No seeds: the first node of its network."""
        return bool(seeds)

    def is_seed_up(self, *, answers: Answers) -> bool:
        return any(contact is not None for contact in answers.values())

    # -- actions ------------------------------------------------------------------------------

    def do_remember_seeds(self, *, seeds: list[Address]) -> None:
        """A new join supersedes whatever attempt or re-check is still waiting for answers."""
        self._serial += 1
        self.seeds = list(dict.fromkeys(seeds))
        self.attempts = 0
        self.next_retry_at = None

    def do_ping_seeds(self, *, seeds: list[Address] | None = None) -> None:
        """Ping the remembered seeds (``join`` has just remembered ``seeds``; ``retry`` carries none)."""
        self.next_retry_at = None
        self.attempts += 1
        self._serial += 1
        self._ping_all(list(self.seeds), self.seeds_answered, "DHT bootstrap failed")

    def do_remember_answers(self, *, answers: Answers) -> None:
        down = []
        for seed, contact in answers.items():
            if contact is not None:
                self.seed_contacts[seed] = contact
            else:
                down.append(seed)
                self.seed_contacts.pop(seed, None)
        self.seeds_down = down
        self._recheck_delay = self.backoff_min

    def do_schedule_retry(self, *, answers: Answers) -> None:
        delay = min(self.backoff_max, self.backoff_min * 2 ** (self.attempts - 1))
        self.next_retry_at = self.clock.seconds() + delay
        self.log.warn(
            "DHT seeds {seeds} do not answer; attempt {n}, retrying in {delay:.0f} s",
            seeds=", ".join(f"{h}:{p}" for h, p in self.seeds),
            n=self.attempts,
            delay=delay,
        )
        self.start_deadline("retry", delay)

    def do_schedule_recheck(self, *, answers: Answers) -> None:
        """Seeds still down are asked again later, with backoff; none down: nothing to wait for."""
        if not self.seeds_down:
            self.next_retry_at = None
            return
        delay = self._recheck_delay
        self._recheck_delay = min(self.backoff_max, delay * 2)
        self.next_retry_at = self.clock.seconds() + delay
        self.start_deadline("recheck", delay)

    def do_join_layers(self, *, answers: Answers) -> None:
        self.join_layers()

    def do_ping_down_seeds(self) -> None:
        self._ping_all(list(self.seeds_down), self.seeds_rechecked, "DHT seed check failed")

    def do_remember_rechecked(self, *, answers: Answers) -> None:
        for seed, contact in answers.items():
            if contact is not None:
                self.seed_contacts[seed] = contact
                if seed in self.seeds_down:
                    self.seeds_down.remove(seed)

    def do_stop(self) -> None:
        self._serial += 1
        self.next_retry_at = None
        self.destroy()

    # -- helpers ------------------------------------------------------------------------------

    def _ping_all(self, seeds: list[Address], event: Callable[..., None], what: str) -> None:
        """Ping ``seeds`` at once; when all have answered or failed, send ``event(answers=...)``
        with ``{seed: Contact or None}`` unless a later attempt (or ``stop``) made them stale."""
        serial = self._serial
        d = defer.DeferredList([self.ping(seed) for seed in seeds], consumeErrors=True)

        def answered(results: list[tuple[bool, Any]]) -> None:
            if serial != self._serial or self.destroyed:
                return
            answers = {
                seed: Contact(answer.sender, seed[0], seed[1]) if ok else None
                for seed, (ok, answer) in zip(seeds, results, strict=True)
            }
            event(answers=answers)

        d.addCallback(answered)
        d.addErrback(log_failure(self.log, what))

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "attempts": self.attempts,
            "seeds": len(self.seeds),
            "seeds_down": len(self.seeds_down),
        }
