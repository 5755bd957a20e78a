"""The engine's table of API methods, and the one place where a call becomes an envelope.

REST and WebSocket both hand a method name (or a matched route) and raw values to
:meth:`ApiRegistry.call` / :meth:`ApiRegistry.call_request`; parameters are parsed, the method
runs, and every outcome is mapped to ``(http_code, envelope)`` here: a domain error
(:class:`~bitdust.main.errors.BitDustError`) to the status of its kind
(:mod:`bitdust.interface.error_statuses`) and its messages, anything unexpected to
a logged 500 whose envelope never carries a traceback. The transports only move bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from bitdust.interface.api import envelope
from bitdust.interface.api.params import parse_params, parse_request_params
from bitdust.interface.api.spec import ApiResult, MethodSpec, specs_of
from bitdust.interface.error_statuses import status_of
from bitdust.main.errors import BitDustError, NotFound

if TYPE_CHECKING:
    from bitdust.main.engine import Engine

CallResult = tuple[int, dict[str, Any]]


def split_path(path: str) -> list[str]:
    """Route segments of ``path``; surrounding slashes do not matter, empty inner segments do."""
    return path.strip("/").split("/")


def _is_template(segment: str) -> bool:
    return len(segment) > 2 and segment.startswith("{") and segment.endswith("}")


class _Route:
    """One ``verb path`` route, possibly with ``{name}`` segments."""

    def __init__(self, spec: MethodSpec) -> None:
        self.spec = spec
        self.segments = split_path(spec.path)
        self.shape = tuple("{}" if _is_template(s) else s for s in self.segments)

    def bind(self, segments: list[str]) -> dict[str, str] | None:
        """Path arguments when ``segments`` fit this route, else None."""
        if len(segments) != len(self.segments):
            return None
        args: dict[str, str] = {}
        for pattern, given in zip(self.segments, segments, strict=True):
            if _is_template(pattern):
                if not given:
                    return None
                args[pattern[1:-1]] = given
            elif pattern != given:
                return None
        return args


class ApiRegistry:
    """All API methods of one engine; REST, WebSocket, the CLI and OpenAPI read it.

    ``log_calls`` is asked on every call (the engine passes one reading ``logs/api-enabled``) so
    call logging can be switched on while the engine runs. ``timer`` measures ``execution``.
    """

    def __init__(
        self,
        engine: Engine,
        specs: Iterable[MethodSpec],
        *,
        log: Logger | None = None,
        log_calls: Callable[[], bool] | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._engine = engine
        self._log = log if log is not None else Logger(namespace="bitdust.interface.api")
        self._log_calls = log_calls
        self._timer = timer
        self._specs: dict[str, MethodSpec] = {}
        self._routes: list[_Route] = []
        shapes: dict[tuple[str, tuple[str, ...]], str] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"API method {spec.name} registered twice")
            route = _Route(spec)
            declared = {s[1:-1] for s in route.segments if _is_template(s)}
            in_path = {p.name for p in spec.params if p.in_path}
            if declared != in_path:
                raise ValueError(f"API method {spec.name}: path {spec.path} does not match its parameters")
            key = (spec.verb, route.shape)
            if key in shapes:
                raise ValueError(f"API methods {shapes[key]} and {spec.name} share the route {spec.verb} {spec.path}")
            shapes[key] = spec.name
            self._specs[spec.name] = spec
            self._routes.append(route)

    @classmethod
    def from_modules(
        cls,
        engine: Engine,
        modules: Iterable[ModuleType],
        *,
        log: Logger | None = None,
        log_calls: Callable[[], bool] | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> ApiRegistry:
        """A registry of every method declared in ``modules``, in module then source order."""
        specs = [spec for module in modules for spec in specs_of(module)]
        return cls(engine, specs, log=log, log_calls=log_calls, timer=timer)

    # -- lookup -------------------------------------------------------------------------------

    def get(self, name: str) -> MethodSpec | None:
        return self._specs.get(name)

    def specs(self) -> list[MethodSpec]:
        """All specs in registration order (the order of the OpenAPI document and the CLI)."""
        return list(self._specs.values())

    def match(self, verb: str, path: str) -> tuple[MethodSpec, dict[str, str]] | None:
        """The method serving ``verb path`` and its path arguments; a literal route wins a template."""
        segments = split_path(path)
        best: tuple[MethodSpec, dict[str, str]] | None = None
        for route in self._routes:
            if route.spec.verb != verb.upper():
                continue
            args = route.bind(segments)
            if args is None:
                continue
            if not args:
                return route.spec, args
            if best is None:
                best = (route.spec, args)
        return best

    def allowed_verbs(self, path: str) -> list[str]:
        """Verbs with a route at ``path``: empty means 404, otherwise a wrong verb is a 405."""
        segments = split_path(path)
        return sorted({route.spec.verb for route in self._routes if route.bind(segments) is not None})

    def path_known(self, path: str) -> bool:
        return bool(self.allowed_verbs(path))

    # -- calls --------------------------------------------------------------------------------

    def call(self, name: str, kwargs: Mapping[str, Any], *, from_strings: bool = False) -> defer.Deferred[CallResult]:
        """Run the method ``name`` with raw ``kwargs``; fires ``(http_code, envelope)``.

        Never fails, except with ``CancelledError`` when the caller cancelled it (a long poll
        whose client went away): the transport then has nobody to answer.
        """
        spec = self._specs.get(name)
        if spec is None:
            shown = name if len(name) <= 100 else name[:100] + "..."
            return self._run(name, lambda: _raise(NotFound(f"unknown method: {shown}")), None)
        return self._run(name, lambda: parse_params(spec, kwargs, from_strings=from_strings), spec)

    def call_request(
        self,
        spec: MethodSpec,
        *,
        path_args: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Mapping[str, Any],
    ) -> defer.Deferred[CallResult]:
        """Like :meth:`call` for a matched REST route: path, query string and JSON body values."""
        return self._run(
            spec.name, lambda: parse_request_params(spec, path_args=path_args, query=query, body=body), spec
        )

    def _run(
        self, name: str, parse: Callable[[], dict[str, Any]], spec: MethodSpec | None
    ) -> defer.Deferred[CallResult]:
        started = self._timer()
        cancelled = False

        def invoke() -> object:  # whatever the method answers: a JSON value, an ApiResult, a Deferred
            params = parse()
            assert spec is not None
            return spec.func(self._engine, **params)

        inner = defer.maybeDeferred(invoke)

        def on_result(value: object) -> CallResult:
            try:
                if isinstance(value, ApiResult):
                    answer = envelope.ok(value.result, self._elapsed(started), value.message, value.extra)
                else:
                    answer = envelope.ok(value, self._elapsed(started))
                envelope.encode(answer)
            except (TypeError, ValueError, RecursionError):
                return self._internal_error(Failure(), name, started, "returned a result JSON cannot carry")
            return 200, answer

        def on_failure(failure: Failure) -> CallResult | Failure:
            if failure.check(defer.CancelledError) and cancelled:
                return failure
            if failure.check(BitDustError):
                exc = failure.value
                return status_of(exc), envelope.error(list(exc.errors), self._elapsed(started))
            return self._internal_error(failure, name, started, "failed")

        def report(result: CallResult | Failure) -> CallResult | Failure:
            if self._log_calls is not None and self._wants_call_log():
                code = result[0] if isinstance(result, tuple) else 499
                self._log.info(
                    "API call {method}: {code} in {execution}s",
                    method=name,
                    code=code,
                    execution=envelope.format_execution(self._elapsed(started)),
                )
            return result

        # the same Deferred as ``inner``, typed with what the callbacks made of the method's answer
        answered = inner.addCallbacks(on_result, on_failure).addBoth(report)

        def cancel(_outer: defer.Deferred[CallResult]) -> None:
            nonlocal cancelled
            cancelled = True
            inner.cancel()

        outer: defer.Deferred[CallResult] = defer.Deferred(cancel)

        def forward(result: CallResult | Failure) -> None:
            if outer.called:
                return  # cancelled and already fired with CancelledError
            if isinstance(result, Failure):
                outer.errback(result)
            else:
                outer.callback(result)

        answered.addBoth(forward)
        return outer

    def _internal_error(self, failure: Failure, name: str, started: float, what: str) -> CallResult:
        """Log the traceback for the engine's owner; tell the client only the exception's class."""
        self._log.failure("API method {method} " + what, failure, method=name)
        kind = failure.type.__name__ if failure.type is not None else "Exception"
        return 500, envelope.error([f"internal error: {kind}; see the engine log"], self._elapsed(started))

    def _elapsed(self, started: float) -> float:
        return self._timer() - started

    def _wants_call_log(self) -> bool:
        assert self._log_calls is not None
        try:
            return bool(self._log_calls())
        except Exception:  # a broken switch must not break the call
            return False


def _raise(exc: Exception) -> NoReturn:
    raise exc
