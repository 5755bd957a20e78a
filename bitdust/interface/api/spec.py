"""How an API method declares itself.

A method is a plain function ``fn(engine, **params)`` decorated with :func:`api_method`. The
decorator only attaches an immutable :class:`MethodSpec` to the function; the per-engine
``ApiRegistry`` collects the specs from the modules it is given. REST routes, WebSocket dispatch,
the CLI and the OpenAPI document are all derived from these specs, so they cannot drift.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from bitdust.interface.api.constraints import Constraint

SPEC_ATTRIBUTE = "__bitdust_api__"
HTTP_VERBS = ("GET", "POST", "PUT", "DELETE")
PARAM_KINDS = ("str", "int", "float", "bool", "list", "dict", "any")

COMMON_STATUSES = (200, 400, 401, 403, 413, 414, 431, 500)
"""What the REST layer can answer for any method, whatever the method does.

200 success; 400 a parameter that does not fit its kind or constraint (every method refuses an
unknown parameter); 401 a missing or wrong ``api_secret``; 403 a client that is not on this
machine; 413 a body over ``interface/api/max-request-size``; 414/431 a URL or headers over the
transport's limits; 500 an unexpected failure.
"""

DOMAIN_STATUSES = (404, 409, 502, 503, 504)
"""Statuses that only some methods answer; each method declares which (``answers=``).

404 a named object (service, key, option, remote path, machine) does not exist; 409 the node's
state forbids the call (no identity yet, or one already); 502 a remote server or peer answered
with an error; 503 a service the method needs is not running; 504 a peer did not answer in time.
"""


class _Required:
    """Marker default of a parameter that has no default."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()


@attrs.frozen
class Param:
    """One parameter of an API method.

    ``kind`` is one of :data:`PARAM_KINDS`; ``nullable`` is true when ``None`` is an accepted value;
    ``aliases`` are other names accepted for it (the seed's errata); ``in_path`` marks a
    ``{name}`` segment of the route; ``constraint`` is what a value must satisfy beyond its
    kind (applied to requests and written into the OpenAPI document alike).
    """

    name: str
    kind: str
    default: object = REQUIRED
    nullable: bool = False
    description: str = ""
    aliases: tuple[str, ...] = ()
    in_path: bool = False
    constraint: Constraint | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@attrs.frozen
class ApiResult:
    """A successful answer; ``message`` is an optional human line added to the envelope.

    ``extra`` holds fields the envelope carries beside ``result``, as the original's
    ``RESULT(..., extra_fields=...)`` did (``files_list`` puts the catalog ``revision`` there).
    """

    result: object = None
    message: str | None = None
    extra: dict[str, Any] | None = None


@attrs.frozen
class MethodSpec:
    """One API method; ``statuses`` are every HTTP status it can answer, in ascending order."""

    name: str
    verb: str
    path: str
    func: Callable[..., Any]
    params: tuple[Param, ...]
    summary: str
    description: str
    long_poll: bool = False
    statuses: tuple[int, ...] = COMMON_STATUSES
    links: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    """``(method, ((parameter, result pointer), ...))``: which calls take a value from this answer."""

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name or name in p.aliases:
                return p
        return None


_NON_EMPTY = Constraint(min_length=1)


def _kind_of(annotation: object) -> tuple[str, bool]:
    """Map a type hint to (kind, nullable)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return "any", True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) != len(typing.get_args(annotation))
        if len(args) == 1:
            kind, inner_nullable = _kind_of(args[0])
            return kind, nullable or inner_nullable
        return "any", True
    base = origin or annotation
    mapping = {str: "str", int: "int", float: "float", bool: "bool", list: "list", dict: "dict"}
    if base in mapping:
        return mapping[base], False
    raise TypeError(f"unsupported API parameter type {annotation!r}")


def _parameter_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The evaluated types of ``func``'s parameters after the first (the engine, skipped).

    An API module names the engine's class only under ``TYPE_CHECKING`` (the composition imports
    the API modules, so a runtime import would be a cycle); that name does not exist when the
    decorator runs, and nothing here needs it.
    """
    first = next(iter(inspect.signature(func).parameters), None)
    rest = {name: hint for name, hint in func.__annotations__.items() if name not in (first, "return")}
    holder = types.FunctionType(_no_op.__code__, func.__globals__)
    holder.__annotations__ = rest
    return typing.get_type_hints(holder)


_Method = TypeVar("_Method", bound=Callable[..., Any])
"""An API method: the decorator hands the function back unchanged, so its signature stays typed."""


def _no_op() -> None:
    """The body lent to the annotation holder of :func:`_parameter_hints`."""


def api_method(
    verb: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    aliases: dict[str, tuple[str, ...]] | None = None,
    constraints: dict[str, Constraint] | None = None,
    answers: tuple[int, ...] = (),
    links: dict[str, dict[str, str]] | None = None,
    long_poll: bool = False,
) -> Callable[[_Method], _Method]:
    """Declare ``fn(engine, ...)`` as the API method named after the function.

    ``params`` maps parameter names to one-line descriptions; ``aliases`` maps a parameter name
    to other names accepted for it; ``constraints`` maps a parameter name to what its values must
    satisfy. ``answers`` are the statuses of :data:`DOMAIN_STATUSES` this method can answer on
    top of :data:`COMMON_STATUSES`. ``links`` maps another method's name to ``{its parameter: a
    JSON pointer into this method's result}`` (``{"key_get": {"key_id": "key_id"}}``): what a
    client can call next with what this answer gave it; the document carries them as OpenAPI
    links. Path parameters are the ``{name}`` segments of ``path``; a
    path segment is never empty, so they are non-empty strings unless declared stricter.
    """
    verb = verb.upper()
    if verb not in HTTP_VERBS:
        raise ValueError(f"unknown HTTP verb {verb!r}")
    descriptions = params or {}
    alias_map = aliases or {}
    limits = constraints or {}
    odd = sorted(set(answers) - set(DOMAIN_STATUSES))
    if odd:
        raise ValueError(f"answers {odd} are not among the statuses a method declares {DOMAIN_STATUSES}")
    statuses = tuple(sorted(set(COMMON_STATUSES) | set(answers)))

    def decorate(func: _Method) -> _Method:
        hints = _parameter_hints(func)
        signature = inspect.signature(func)
        found: list[Param] = []
        for index, (name, parameter) in enumerate(signature.parameters.items()):
            if index == 0:
                continue  # the engine
            kind, nullable = _kind_of(hints.get(name, inspect.Parameter.empty))
            default = REQUIRED if parameter.default is inspect.Parameter.empty else parameter.default
            in_path = "{" + name + "}" in path
            constraint = limits.get(name)
            if constraint is None and in_path and kind == "str":
                constraint = _NON_EMPTY
            if constraint is not None:
                constraint.check_fits(kind, f"{func.__name__}.{name}")
            found.append(
                Param(
                    name=name,
                    kind=kind,
                    default=default,
                    nullable=nullable or default is None,
                    description=descriptions.get(name, ""),
                    aliases=tuple(alias_map.get(name, ())),
                    in_path=in_path,
                    constraint=constraint,
                )
            )
        names = {p.name for p in found}
        unknown = set(descriptions) - names
        if unknown:
            raise ValueError(f"{func.__name__}: descriptions for unknown parameters {sorted(unknown)}")
        unknown = set(limits) - names
        if unknown:
            raise ValueError(f"{func.__name__}: constraints for unknown parameters {sorted(unknown)}")
        doc = inspect.getdoc(func) or ""
        summary, _, rest = doc.partition("\n")
        spec = MethodSpec(
            name=func.__name__,
            verb=verb,
            path=path.strip("/"),
            func=func,
            params=tuple(found),
            summary=summary.strip(),
            description=rest.strip(),
            long_poll=long_poll,
            statuses=statuses,
            links=tuple(sorted((target, tuple(sorted(values.items()))) for target, values in (links or {}).items())),
        )
        setattr(func, SPEC_ATTRIBUTE, spec)
        return func

    return decorate


def specs_of(module: types.ModuleType) -> list[MethodSpec]:
    """All API method specs declared in ``module``, in source order."""
    found = []
    for value in vars(module).values():
        spec = getattr(value, SPEC_ATTRIBUTE, None)
        if isinstance(spec, MethodSpec) and value.__module__ == module.__name__:
            found.append(spec)
    return found
