# generated from automats/dht_bootstrap.md — do not edit; run `make automats`
"""State machine ``dht_bootstrap``: constants and dispatch generated from automats/dht_bootstrap.md.

The hand-written ``bitdust.dht.bootstrap.DhtBootstrap`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS.
"""

from __future__ import annotations

from bitdust.automats.runtime import Automat


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

    def A(self, event, *args, **kwargs):
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "IDLE":
            if event == "join":
                if self.is_seed_given(*args, **kwargs):
                    # IDLE --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(*args, **kwargs)
                    self.do_ping_seeds(*args, **kwargs)
                else:
                    # IDLE --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
        elif self.state == "NO_SEEDS":
            if event == "join":
                if self.is_seed_given(*args, **kwargs):
                    # NO_SEEDS --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(*args, **kwargs)
                    self.do_ping_seeds(*args, **kwargs)
                else:
                    # NO_SEEDS --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
        elif self.state == "JOINING":
            if event == "seeds-answered":
                if self.is_seed_up(*args, **kwargs):
                    # JOINING --> JOINED : seeds-answered [is_seed_up] / do_remember_answers, do_schedule_recheck, do_join_layers
                    self.state = "JOINED"
                    self.do_remember_answers(*args, **kwargs)
                    self.do_schedule_recheck(*args, **kwargs)
                    self.do_join_layers(*args, **kwargs)
                else:
                    # JOINING --> RETRY_WAIT : seeds-answered [!is_seed_up] / do_remember_answers, do_schedule_retry
                    self.state = "RETRY_WAIT"
                    self.do_remember_answers(*args, **kwargs)
                    self.do_schedule_retry(*args, **kwargs)
            elif event == "join":
                if self.is_seed_given(*args, **kwargs):
                    # JOINING --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(*args, **kwargs)
                    self.do_ping_seeds(*args, **kwargs)
                else:
                    # JOINING --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
        elif self.state == "RETRY_WAIT":
            if event == "retry":
                self.state = "JOINING"
                self.do_ping_seeds(*args, **kwargs)
            elif event == "join":
                if self.is_seed_given(*args, **kwargs):
                    # RETRY_WAIT --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(*args, **kwargs)
                    self.do_ping_seeds(*args, **kwargs)
                else:
                    # RETRY_WAIT --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
        elif self.state == "JOINED":
            if event == "recheck":
                self.state = "JOINED"
                self.do_ping_down_seeds(*args, **kwargs)
            elif event == "seeds-rechecked":
                self.state = "JOINED"
                self.do_remember_rechecked(*args, **kwargs)
                self.do_schedule_recheck(*args, **kwargs)
            elif event == "join":
                if self.is_seed_given(*args, **kwargs):
                    # JOINED --> JOINING : join [is_seed_given] / do_remember_seeds, do_ping_seeds
                    self.state = "JOINING"
                    self.do_remember_seeds(*args, **kwargs)
                    self.do_ping_seeds(*args, **kwargs)
                else:
                    # JOINED --> NO_SEEDS : join [!is_seed_given] / do_remember_seeds
                    self.state = "NO_SEEDS"
                    self.do_remember_seeds(*args, **kwargs)
            elif event == "stop":
                self.state = "STOPPED"
                self.do_stop(*args, **kwargs)
