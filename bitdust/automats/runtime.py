"""The base class of every generated state machine.

A generated ``<Class>Machine`` adds the constants and the ``A()`` dispatch; the hand-written
subclass adds the ``do_*`` actions and ``is_*`` conditions. This class supplies what every
machine shares: run-to-completion event processing, per-state timers on an injected clock,
state-change callbacks, a ring buffer of recent transitions, failure handling and ``destroy()``.

Nothing here touches the global reactor or module-level state: the clock and the registry are
passed in, so many engines (and many tests) can run machines side by side.
"""

from __future__ import annotations

import collections
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

from bitdust.automats.errors import PayloadError, UnexpectedEventError, UnknownEventError
from bitdust.automats.instrumentation import (
    add_transition_observer,
    add_unexpected_observer,
    notify_transition,
    notify_unexpected,
    remove_transition_observer,
    remove_unexpected_observer,
)

__all__ = [
    "Automat",
    "Payload",
    "Transition",
    "add_transition_observer",
    "add_unexpected_observer",
    "remove_transition_observer",
    "remove_unexpected_observer",
    "reserved_names",
]

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime

    from bitdust.automats.registry import AutomatRegistry

StateChangedCallback = Callable[["Automat", str, str, str], object]
# The named values one event carries; the generated typed event methods are what type them.
Payload = Mapping[str, object]


@attrs.frozen
class Transition:
    """One processed event in the history: when, which event, and the states before and after."""

    time: float
    event: str
    from_state: str
    to_state: str

    def to_json(self) -> dict[str, object]:
        return {"time": self.time, "event": self.event, "from": self.from_state, "to": self.to_state}


class Automat:
    """Runtime of one state machine instance; generated classes fill in the class constants."""

    NAME: str = ""
    SOURCE: str = ""
    STATES: tuple[str, ...] = ()
    EVENTS: frozenset[str] = frozenset()
    INITIAL_STATE: str = ""
    FINAL_STATES: frozenset[str] = frozenset()
    FAILURE_STATE: str | None = None
    TIMERS: Mapping[str, tuple[float, frozenset[str]]] = types.MappingProxyType({})
    ACTIONS: tuple[str, ...] = ()
    CONDITIONS: tuple[str, ...] = ()
    # The field names each event carries; an event not listed carries nothing.
    PAYLOADS: Mapping[str, tuple[str, ...]] = types.MappingProxyType({})
    # The states with a transition on each event, and those where the source lets it be dropped.
    # A class without EDGE_STATES (a hand-written dispatch) decides everything in A() itself.
    EDGE_STATES: Mapping[str, frozenset[str]] | None = None
    IGNORED: Mapping[str, frozenset[str]] = types.MappingProxyType({})
    # The events start_deadline may send; None (a hand-written dispatch) allows any.
    DEADLINES: frozenset[str] | None = None

    def __init__(
        self,
        *,
        clock: IReactorTime,
        registry: AutomatRegistry | None = None,
        instance_id: str | None = None,
        log: Logger | None = None,
        strict: bool | None = None,
        history_size: int = 64,
    ) -> None:
        self.clock = clock
        self.registry = registry
        self.name = self.NAME
        self.id = instance_id or self.NAME
        self.state = self.INITIAL_STATE
        self.log = log if log is not None else Logger(namespace=type(self).__module__)
        if strict is None:
            strict = registry.strict if registry is not None else True
        self.strict = strict
        self.index = 0
        self.destroyed = False
        self.unknown_events = 0
        self.unexpected_events = 0
        self.last_error: BaseException | None = None
        self._history: collections.deque[Transition] = collections.deque(maxlen=history_size)
        self._callbacks: list[StateChangedCallback] = []
        self._queue: collections.deque[tuple[str, Payload]] = collections.deque()
        self._busy = False
        self._timers: dict[str, IDelayedCall] = {}
        self._pending: set[IDelayedCall] = set()
        self._deadlines: dict[str, tuple[IDelayedCall, str]] = {}
        if registry is not None:
            self.index = registry.register(self)
        self._update_timers(None, self.state)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}#{self.index} {self.state}>"

    def A(self, event: str, payload: Payload) -> None:
        """The dispatch; generated from the machine's source."""
        raise NotImplementedError(f"{type(self).__name__} has no generated dispatch")

    # -- events -------------------------------------------------------------------------------

    def automat(self, event: str, /, **payload: object) -> None:
        """Process ``event`` now; from inside a transition, queue it until that transition ends.

        This is the generic entry, for what names events at run time (timers, deadlines, the
        tests of the runtime); code that knows its event calls the generated typed method
        (``machine.ack(packet=...)``) instead, which comes here. An unknown event raises
        :class:`UnknownEventError` in strict mode; otherwise it is logged, counted and dropped.
        A payload other than the one the source declares raises :class:`PayloadError`, in any
        mode: it is a call that could not have type-checked. An exception from an action or a
        condition moves the machine to ``FAILURE_STATE`` when it has one, else it propagates to
        this caller and the events still queued behind it are dropped (with an error log).
        """
        if self.destroyed:
            self.log.info("{automat} is destroyed, ignoring event {event}", automat=self.id, event=event)
            return
        if not self._accept(event, payload):
            return
        self._queue.append((event, payload))
        if self._busy:
            return
        self._busy = True
        try:
            while self._queue and not self.destroyed:
                queued, queued_payload = self._queue.popleft()
                self._process(queued, queued_payload)
        except BaseException:
            if self._queue:
                dropped = [queued for queued, _payload in self._queue]
                self._queue.clear()
                self.log.error("{automat} dropped queued events {dropped}", automat=self.id, dropped=dropped)
            raise
        finally:
            self._busy = False
            self._queue.clear()

    def event(self, event: str, /, **payload: object) -> None:
        """Queue ``event`` on the clock, to be processed on a later turn of the reactor."""
        if self.destroyed:
            self.log.info("{automat} is destroyed, ignoring event {event}", automat=self.id, event=event)
            return
        if not self._accept(event, payload):
            return
        call: IDelayedCall | None = None

        def fire() -> None:
            if call is not None:
                self._pending.discard(call)
            self.automat(event, **payload)

        call = self.clock.callLater(0, fire)
        self._pending.add(call)

    def _accept(self, event: str, payload: Payload) -> bool:
        if event in self.EVENTS:
            wanted = self.PAYLOADS.get(event, ())
            if sorted(payload) != sorted(wanted):
                raise PayloadError(self.id, event, tuple(wanted), tuple(payload))
            return True
        if self.strict:
            raise UnknownEventError(self.id, event, self.state)
        self.unknown_events += 1
        if self.registry is not None:
            self.registry.unknown_events += 1
        self.log.error(
            "{automat}: unknown event {event!r} in state {state}", automat=self.id, event=event, state=self.state
        )
        return False

    def _process(self, event: str, payload: Payload) -> None:
        old = self.state
        if self.EDGE_STATES is not None and old not in self.EDGE_STATES.get(event, ()):
            self._changed(event, old, old)
            if old not in self.IGNORED.get(event, ()):
                self._unexpected(event)
            return
        try:
            self.A(event, payload)
        except Exception as exc:
            self.last_error = exc
            if self.FAILURE_STATE is None:
                self._changed(event, old, self.state, failed=True)
                raise
            self.log.failure(
                "{automat} failed on {event} in state {state}; moving to {failure_state}",
                failure=Failure(),
                level=LogLevel.error,
                automat=self.id,
                event=event,
                state=old,
                failure_state=self.FAILURE_STATE,
            )
            self.state = self.FAILURE_STATE
            self._changed(event, old, self.state, failed=True)
            return
        self._changed(event, old, self.state)

    def _unexpected(self, event: str) -> None:
        """``event`` has no transition in this state and the source does not say it may be dropped.

        A bug in a caller or a gap in the diagram: strict mode (the tests) raises; otherwise it is
        logged with the machine, the state and the event, counted, and dropped.
        """
        notify_unexpected(self, event)
        if self.strict:
            raise UnexpectedEventError(self.id, event, self.state)
        self.unexpected_events += 1
        if self.registry is not None:
            self.registry.unexpected_events += 1
        self.log.error(
            "{machine} {automat}: unexpected event {event!r} in state {state}, dropped",
            machine=self.NAME,
            automat=self.id,
            event=event,
            state=self.state,
        )

    def _changed(self, event: str, old: str, new: str, *, failed: bool = False) -> None:
        transition = Transition(self.clock.seconds(), event, old, new)
        self._history.append(transition)
        notify_transition(self, transition, failed)
        self.log.debug("{automat} {event}: {old} -> {new}", automat=self.id, event=event, old=old, new=new)
        if new == old:
            return
        self._update_timers(old, new)
        self._cancel_deadlines(keep_state=new)
        for callback in list(self._callbacks):
            self._notify(callback, old, new, event)
        if self.registry is not None:
            self.registry.state_changed(self, old, new, event)

    def _notify(self, callback: StateChangedCallback, old: str, new: str, event: str) -> None:
        """Observers must not break the machine: their errors are logged, not raised."""
        try:
            callback(self, old, new, event)
        except Exception:
            self.log.failure("{automat} state-changed callback {callback!r} failed", automat=self.id, callback=callback)

    # -- timers -------------------------------------------------------------------------------

    def _update_timers(self, old: str | None, new: str) -> None:
        """Start the timers of the states entered, cancel those of the states left.

        A timer shared by the old and the new state keeps its rhythm.
        """
        if self.destroyed:
            return
        for event, (_period, states) in self.TIMERS.items():
            was, now = old in states, new in states
            if now and not was:
                self._start_timer(event)
            elif was and not now:
                self._cancel_timer(event)

    def _start_timer(self, event: str) -> None:
        self._cancel_timer(event)
        period = self.TIMERS[event][0]
        self._timers[event] = self.clock.callLater(period, self._timer_fired, event)

    def _cancel_timer(self, event: str) -> None:
        call = self._timers.pop(event, None)
        if call is not None and call.active():
            call.cancel()

    def _timer_fired(self, event: str) -> None:
        period = self.TIMERS[event][0]
        self._timers[event] = self.clock.callLater(period, self._timer_fired, event)
        self.automat(event)

    def start_deadline(self, event: str, seconds: float) -> None:
        """Fire ``event`` once after ``seconds`` unless the machine leaves its current state first.

        Declared timers have a fixed period in the source; this is for the per-instance ones (a
        packet's own ack timeout, a user's ping timeout). Starting it again restarts it.
        """
        if self.DEADLINES is not None and event not in self.DEADLINES:
            raise ValueError(f"{self.id}: {event!r} is not one of the deadlines of {self.SOURCE}")
        if self.destroyed:
            return
        self._cancel_deadline(event)
        call = self.clock.callLater(max(0.0, seconds), self._deadline_fired, event)
        self._deadlines[event] = (call, self.state)

    def _deadline_fired(self, event: str) -> None:
        self._deadlines.pop(event, None)
        self.automat(event)

    def _cancel_deadline(self, event: str) -> None:
        entry = self._deadlines.pop(event, None)
        if entry is not None and entry[0].active():
            entry[0].cancel()

    def _cancel_deadlines(self, keep_state: str | None = None) -> None:
        for event, (_call, state) in list(self._deadlines.items()):
            if state != keep_state:
                self._cancel_deadline(event)

    # -- observers and life cycle -------------------------------------------------------------

    def add_state_changed_callback(self, callback: StateChangedCallback) -> None:
        """Call ``callback(automat, old_state, new_state, event)`` after every state change."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def remove_state_changed_callback(self, callback: StateChangedCallback) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    @property
    def history(self) -> list[Transition]:
        """The most recent processed events, oldest first."""
        return list(self._history)

    def destroy(self) -> None:
        """Stop for good: cancel timers and queued events, leave the registry, ignore later events."""
        if self.destroyed:
            return
        self.destroyed = True
        for event in list(self._timers):
            self._cancel_timer(event)
        self._cancel_deadlines()
        for call in list(self._pending):
            if call.active():
                call.cancel()
        self._pending.clear()
        self._queue.clear()
        if self.registry is not None:
            self.registry.unregister(self)
        self.log.debug("{automat} destroyed in state {state}", automat=self.id, state=self.state)

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "id": self.id, "name": self.name, "state": self.state}

    def info(self) -> dict[str, object]:
        """Everything an operator needs to see what this machine is doing and has done."""
        error = self.last_error
        return {
            **self.to_json(),
            "events": sorted(self.EVENTS),
            "states": list(self.STATES),
            "timers": {event: period for event, (period, _states) in self.TIMERS.items()},
            "transitions": [transition.to_json() for transition in self._history],
            "unknown_events": self.unknown_events,
            "unexpected_events": self.unexpected_events,
            "last_error": f"{type(error).__name__}: {error}" if error is not None else None,
        }


# Attributes every machine instance sets in ``Automat.__init__``.
_INSTANCE_ATTRIBUTES = frozenset(
    {"clock", "registry", "name", "id", "state", "log", "strict", "index", "destroyed"}
    | {"unknown_events", "unexpected_events", "last_error"}
)


def reserved_names() -> frozenset[str]:
    """Names a generated event method must not take: what every machine already has."""
    return frozenset(dir(Automat)) | _INSTANCE_ATTRIBUTES
