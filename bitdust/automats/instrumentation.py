"""Instrumentation of every machine, for the test suite: not behaviour.

The unit suite's edge-coverage plugin (``tests/automats/edge_plugin.py``) sees every processed
event of every machine here, whoever built the machine; its strict-events plugin
(``tests/automats/strict_plugin.py``) sees every unexpected event, so it can fail the test even
when the error that event raised was swallowed by a Deferred's errback chain. Engines never add
an observer, so the cost in production is one empty-list check per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bitdust.automats.runtime import Automat, Transition

TransitionObserver = Callable[["Automat", "Transition", bool], object]
UnexpectedObserver = Callable[["Automat", str], object]

_transition_observers: list[TransitionObserver] = []


def add_transition_observer(observer: TransitionObserver) -> None:
    """Call ``observer(automat, transition, failed)`` after every processed event of every machine.

    ``failed`` is true when an action or a condition raised: the state the transition reports is
    then the failure state (or the state reached when it raised), not the end of a diagram edge.
    """
    if observer not in _transition_observers:
        _transition_observers.append(observer)


def remove_transition_observer(observer: TransitionObserver) -> None:
    if observer in _transition_observers:
        _transition_observers.remove(observer)


_unexpected_observers: list[UnexpectedObserver] = []


def add_unexpected_observer(observer: UnexpectedObserver) -> None:
    """Call ``observer(automat, event)`` for every unexpected event, strict or not, before it raises."""
    if observer not in _unexpected_observers:
        _unexpected_observers.append(observer)


def remove_unexpected_observer(observer: UnexpectedObserver) -> None:
    if observer in _unexpected_observers:
        _unexpected_observers.remove(observer)


def notify_transition(automat: Automat, transition: Transition, failed: bool) -> None:
    for observer in list(_transition_observers):
        observer(automat, transition, failed)


def notify_unexpected(automat: Automat, event: str) -> None:
    for observer in list(_unexpected_observers):
        observer(automat, event)
