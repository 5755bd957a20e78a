# generated from automats/supplier_finder.md — do not edit; run `make automats`
"""State machine ``supplier_finder``: constants, event methods and dispatch generated from automats/supplier_finder.md.

The hand-written ``bitdust.customer.supplier_finder.SupplierFinder`` subclasses this class and implements
every action (``do_*``) and condition (``is_*``) listed in ACTIONS and CONDITIONS, with the
keyword-only parameters declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from bitdust.automats.runtime import Automat, Payload


class SupplierFinderMachine(Automat):
    NAME = "supplier_finder"
    SOURCE = "automats/supplier_finder.md"
    STATES = (
        "READY",
        "SEARCH",
        "CLOSED",
    )
    EVENTS = frozenset(
        {
            "candidate",
            "find",
            "lookup-failed",
            "nodes-found",
            "stop",
        }
    )
    INITIAL_STATE = "READY"
    FINAL_STATES = frozenset(
        {
            "CLOSED",
        }
    )
    FAILURE_STATE = None
    TIMERS = {}
    ACTIONS = (
        "do_start_search",
        "do_next_candidate",
        "do_close",
        "do_report_found",
        "do_report_not_found",
        "do_take_nodes",
        "do_report_stopped",
    )
    CONDITIONS = (
        "is_acceptable",
        "is_try_left",
    )
    PAYLOADS = {
        "candidate": ("idurl",),
        "nodes-found": ("idurls",),
        "lookup-failed": ("reason",),
    }
    EDGE_STATES = {
        "find": frozenset({"READY"}),
        "stop": frozenset({"READY", "SEARCH"}),
        "candidate": frozenset({"SEARCH"}),
        "nodes-found": frozenset({"SEARCH"}),
        "lookup-failed": frozenset({"SEARCH"}),
    }
    IGNORED = {}
    DEADLINES = frozenset()

    def find(self) -> None:
        """Send ``find``."""
        self.automat("find")

    def stop(self) -> None:
        """Send ``stop``."""
        self.automat("stop")

    def candidate(self, *, idurl: str) -> None:
        """Send ``candidate`` with its payload."""
        self.automat("candidate", idurl=idurl)

    def nodes_found(self, *, idurls: list[str]) -> None:
        """Send ``nodes-found`` with its payload."""
        self.automat("nodes-found", idurls=idurls)

    def lookup_failed(self, *, reason: str) -> None:
        """Send ``lookup-failed`` with its payload."""
        self.automat("lookup-failed", reason=reason)

    if TYPE_CHECKING:
        # Implemented by bitdust.customer.supplier_finder.SupplierFinder; see automats/supplier_finder.md.
        def do_start_search(self) -> None: ...
        def do_next_candidate(self, *, idurl: str | None = None, idurls: list[str] | None = None, reason: str | None = None) -> None: ...
        def do_close(self) -> None: ...
        def do_report_found(self, *, idurl: str) -> None: ...
        def do_report_not_found(self, *, idurl: str | None = None, idurls: list[str] | None = None, reason: str | None = None) -> None: ...
        def do_take_nodes(self, *, idurls: list[str]) -> None: ...
        def do_report_stopped(self) -> None: ...
        def is_acceptable(self, *, idurl: str) -> bool: ...
        def is_try_left(self, *, idurl: str | None = None, idurls: list[str] | None = None, reason: str | None = None) -> bool: ...

    def A(self, event: str, payload: Payload) -> None:
        """Fire the first transition from the current state on ``event`` whose condition holds."""
        if self.state == "READY":
            if event == "find":
                self.state = "SEARCH"
                self.do_start_search()
                self.do_next_candidate()
            elif event == "stop":
                self.state = "CLOSED"
                self.do_close()
        elif self.state == "SEARCH":
            if event == "candidate":
                if self.is_acceptable(idurl=cast("str", payload["idurl"])):
                    # SEARCH --> READY : candidate [is_acceptable] / do_report_found
                    self.state = "READY"
                    self.do_report_found(idurl=cast("str", payload["idurl"]))
                elif self.is_try_left(idurl=cast("str", payload["idurl"])):
                    # SEARCH --> SEARCH : candidate [!is_acceptable && is_try_left] / do_next_candidate
                    self.state = "SEARCH"
                    self.do_next_candidate(idurl=cast("str", payload["idurl"]))
                else:
                    # SEARCH --> READY : candidate [!is_acceptable && !is_try_left] / do_report_not_found
                    self.state = "READY"
                    self.do_report_not_found(idurl=cast("str", payload["idurl"]))
            elif event == "nodes-found":
                if self.is_try_left(idurls=cast("list[str]", payload["idurls"])):
                    # SEARCH --> SEARCH : nodes-found [is_try_left] / do_take_nodes, do_next_candidate
                    self.state = "SEARCH"
                    self.do_take_nodes(idurls=cast("list[str]", payload["idurls"]))
                    self.do_next_candidate(idurls=cast("list[str]", payload["idurls"]))
                else:
                    # SEARCH --> READY : nodes-found [!is_try_left] / do_report_not_found
                    self.state = "READY"
                    self.do_report_not_found(idurls=cast("list[str]", payload["idurls"]))
            elif event == "lookup-failed":
                if self.is_try_left(reason=cast("str", payload["reason"])):
                    # SEARCH --> SEARCH : lookup-failed [is_try_left] / do_next_candidate
                    self.state = "SEARCH"
                    self.do_next_candidate(reason=cast("str", payload["reason"]))
                else:
                    # SEARCH --> READY : lookup-failed [!is_try_left] / do_report_not_found
                    self.state = "READY"
                    self.do_report_not_found(reason=cast("str", payload["reason"]))
            elif event == "stop":
                self.state = "CLOSED"
                self.do_report_stopped()
                self.do_close()
