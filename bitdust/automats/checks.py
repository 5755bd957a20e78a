"""Does the hand-written class fit its generated machine?

The generator writes no ``do_*``/``is_*`` bodies, so a label naming an action nobody wrote would
only fail when that edge fires. These checks find it at test time instead: a project test runs
them over every source in ``automats/``. :func:`missing_methods` names what is not there;
:func:`signature_problems` names what is there with other parameters than the dispatch passes
(the event's payload, see :mod:`bitdust.automats.payloads`). The types of those parameters are
mypy's to check, against the declarations the generated class makes for it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path

from bitdust.automats.payloads import Parameter
from bitdust.automats.source import MachineSource, method_name, parse_source, source_files


def _hand_written(source: MachineSource) -> type | None:
    module = importlib.import_module(source.module)
    cls = getattr(module, source.class_name, None)
    return cls if isinstance(cls, type) else None


def missing_methods(source: MachineSource) -> list[str]:
    """What the hand-written class lacks, in source order; an empty list means it fits.

    Each entry is an action or condition name the class does not implement. When the class does
    not subclass the generated ``<Class>Machine``, the entry ``subclass of <module>.<Class>Machine``
    is added; when the class itself is missing, the only entry is ``class <module>.<Class>``.
    Import errors of the modules propagate: they are bugs to see with their traceback.
    """
    cls = _hand_written(source)
    if cls is None:
        return [f"class {source.module}.{source.class_name}"]
    missing = [name for name in (*source.actions, *source.conditions) if not callable(getattr(cls, name, None))]
    generated = getattr(importlib.import_module(source.generated_module), source.generated_class, None)
    if not isinstance(generated, type) or not issubclass(cls, generated):
        missing.append(f"subclass of {source.generated_module}.{source.generated_class}")
    return missing


def signature_mismatch(method: Callable[..., object], wanted: tuple[Parameter, ...]) -> str | None:
    """Why ``method`` cannot be called with exactly the keyword arguments ``wanted``, or None.

    It must take ``self`` and then those names, each by keyword, with a default where the payload
    may leave it out; ``*args``/``**kwargs`` are refused, because they would hide a misspelt name.
    """
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return "its signature cannot be read"
    params = list(signature.parameters.values())[1:]  # after self
    variadic = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if variadic:
        return f"takes *{variadic[0]}: name the payload instead"
    names = [p.name for p in params]
    expected = [p.name for p in wanted]
    if sorted(names) != sorted(expected):
        return f"takes ({', '.join(names) or 'nothing'}), the payload is ({', '.join(expected) or 'nothing'})"
    by_name = {p.name: p for p in params}
    for param in wanted:
        given = by_name[param.name]
        if given.kind == given.POSITIONAL_ONLY:
            return f"takes {param.name} by position only; the dispatch passes it by keyword"
        if not param.required and given.default is given.empty:
            return f"needs a default for {param.name}: some of its events do not carry it"
    return None


def signature_problems(source: MachineSource) -> list[str]:
    """Each action or condition the class defines with parameters other than its payload's, and
    each generated event method the class hides with one of its own."""
    cls = _hand_written(source)
    if cls is None:
        return []
    generated = getattr(importlib.import_module(source.generated_module), source.generated_class, None)
    problems = []
    for event in source.events:
        name = method_name(event)
        if generated is not None and hasattr(generated, name) and getattr(cls, name) is not getattr(generated, name):
            problems.append(f"{name} hides the generated method that sends {event}: rename it")
    for name in (*source.actions, *source.conditions):
        method = getattr(cls, name, None)
        if not callable(method):
            continue
        wanted = source.parameters(name)
        why = signature_mismatch(method, wanted)
        if why is not None:
            declared = ", ".join(p.declaration() for p in wanted)
            problems.append(f"{name} {why}; declare it def {name}(self{', *, ' if wanted else ''}{declared})")
    return problems


def check_sources(sources_dir: str | Path) -> dict[str, list[str]]:
    """What each source of ``sources_dir`` finds wrong with its class, by machine name."""
    problems = {}
    for path in source_files(sources_dir):
        source = parse_source(path)
        found = missing_methods(source) + signature_problems(source)
        if found:
            problems[source.name] = found
    return problems
