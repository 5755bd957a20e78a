# generated from automats/dht_bootstrap.md — do not edit; run `make automats`
"""State machine ``dht_bootstrap``: constants, event methods and dispatch generated from automats/dht_bootstrap.md.

The hand-written ``bitdust.dht.bootstrap.DhtBootstrap`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload

if TYPE_CHECKING:
    from bitdust.dht.messages import Contact


class DhtBootstrapMachine(Automat):
    NAME = "dht_bootstrap"
    SOURCE = "automats/dht_bootstrap.md"
    STATES = (
        "IDLE",
        "JOINING",
        "NO_SEEDS",
        "JOINED",
        "RETRY_WAIT",
        "STOPPED",
    )
    EVENTS = frozenset(
        {
            "join",
            "recheck",
            "retry",
            "seeds-answered",
            "seeds-rechecked",
            "stop",
        }
    )
    INITIAL_STATE = "IDLE"
    FINAL_STATES = frozenset(
        {
            "STOPPED",
        }
    )
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_remember_seeds",
        "do_ping_seeds",
        "do_remember_answers",
        "do_schedule_recheck",
        "do_join_layers",
        "do_schedule_retry",
        "do_ping_down_seeds",
        "do_remember_rechecked",
        "do_stop",
    )
    CONDITIONS = (
        "is_seed_given",
        "is_seed_up",
    )
    PAYLOADS = {
        "join": ("seeds",),
        "seeds-answered": ("answers",),
        "seeds-rechecked": ("answers",),
    }
    EDGE_STATES = {
        "join": frozenset({"IDLE", "JOINED", "JOINING", "NO_SEEDS", "RETRY_WAIT"}),
        "seeds-answered": frozenset({"JOINING"}),
        "retry": frozenset({"RETRY_WAIT"}),
        "recheck": frozenset({"JOINED"}),
        "seeds-rechecked": frozenset({"JOINED"}),
        "stop": frozenset({"IDLE", "JOINED", "JOINING", "NO_SEEDS", "RETRY_WAIT"}),
    }
    IGNORED = {}
    DEADLINES = frozenset(
        {
            "recheck",
            "retry",
        }
    )

    def join(self, *, seeds: list[tuple[str, int]]) -> None:
        """Send ``join`` with its payload."""
        self.automat("join", seeds=seeds)

    def seeds_answered(self, *, answers: dict[tuple[str, int], Contact | None]) -> None:
        """Send ``seeds-answered`` with its payload."""
        self.automat("seeds-answered", answers=answers)

    def seeds_rechecked(self, *, answers: dict[tuple[str, int], Contact | None]) -> None:
        """Send ``seeds-rechecked`` with its payload."""
        self.automat("seeds-rechecked", answers=answers)

    def stop(self) -> None:
        """Send ``stop``."""
        self.automat("stop")

    if TYPE_CHECKING:
        # Implemented by bitdust.dht.bootstrap.DhtBootstrap; see automats/dht_bootstrap.md.
        def do_remember_seeds(self, *, seeds: list[tuple[str, int]]) -> None: ...
        def do_ping_seeds(self, *, seeds: list[tuple[str, int]] | None = None) -> None: ...
        def do_remember_answers(self, *, answers: dict[tuple[str, int], Contact | None]) -> None: ...
        def do_schedule_recheck(self, *, answers: dict[tuple[str, int], Contact | None]) -> None: ...
        def do_join_layers(self, *, answers: dict[tuple[str, int], Contact | None]) -> None: ...
        def do_schedule_retry(self, *, answers: dict[tuple[str, int], Contact | None]) -> None: ...
        def do_ping_down_seeds(self) -> None: ...
        def do_remember_rechecked(self, *, answers: dict[tuple[str, int], Contact | None]) -> None: ...
        def do_stop(self) -> None: ...
        def is_seed_given(self, *, seeds: list[tuple[str, int]]) -> bool: ...
        def is_seed_up(self, *, answers: dict[tuple[str, int], Contact | None]) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "IDLE":
            if event == "join":
                if self.is_seed_given(seeds=cast("list[tuple[str, int]]", payload["seeds"])):
                    # IDLE --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                    self.do_ping_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                else:
                    # IDLE --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
        elif self.state == "NO_SEEDS":
            if event == "join":
                if self.is_seed_given(seeds=cast("list[tuple[str, int]]", payload["seeds"])):
                    # NO_SEEDS --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                    self.do_ping_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                else:
                    # NO_SEEDS --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
        elif self.state == "JOINING":
            if event == "seeds-answered":
                if self.is_seed_up(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"])):
                    # JOINING --> JOINED : seeds-answered [is_seed_up] / do_remember_answers, do_schedule_recheck, do_join_layers
                    self.state = "JOINED"
                    self.do_remember_answers(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"]))
                    self.do_schedule_recheck(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"]))
                    self.do_join_layers(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"]))
                else:
                    # JOINING --> RETRY_WAIT : seeds-answered [!is_seed_up] / do_remember_answers, do_schedule_retry
                    self.state = "RETRY_WAIT"
                    self.do_remember_answers(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"]))
                    self.do_schedule_retry(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"]))
            elif event == "join":
                if self.is_seed_given(seeds=cast("list[tuple[str, int]]", payload["seeds"])):
                    # JOINING --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                    self.do_ping_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                else:
                    # JOINING --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
        elif self.state == "RETRY_WAIT":
            if event == "retry":
                self.state = "JOINING"
                self.do_ping_seeds()
            elif event == "join":
                if self.is_seed_given(seeds=cast("list[tuple[str, int]]", payload["seeds"])):
                    # RETRY_WAIT --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                    self.do_ping_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                else:
                    # RETRY_WAIT --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
        elif self.state == "JOINED":
            if event == "recheck":
                self.state = "JOINED"
                self.do_ping_down_seeds()
            elif event == "seeds-rechecked":
                self.state = "JOINED"
                self.do_remember_rechecked(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"]))
                self.do_schedule_recheck(answers=cast("dict[tuple[str, int], Contact | None]", payload["answers"]))
            elif event == "join":
                if self.is_seed_given(seeds=cast("list[tuple[str, int]]", payload["seeds"])):
                    # JOINED --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                    self.do_ping_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
                else:
                    # JOINED --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(seeds=cast("list[tuple[str, int]]", payload["seeds"]))
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop()
