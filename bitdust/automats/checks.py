"""Does the hand-written class fit its generated machine?

The generator writes no ``do_*``/``is_*`` stubs, so a label naming an action nobody wrote would
only fail when that edge fires. This check finds it at test time instead: a project test runs it
over every source in ``automats/``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from bitdust.automats.source import MachineSource, parse_source, source_files


def missing_methods(source: MachineSource) -> list[str]:
    """What the hand-written class lacks, in source order; an empty list means it fits.

    Each entry is an action or condition name the class does not implement. When the class does
    not subclass the generated ``<Class>Machine``, the entry ``subclass of <module>.<Class>Machine``
    is added; when the class itself is missing, the only entry is ``class <module>.<Class>``.
    Import errors of the modules propagate: they are bugs to see with their traceback.
    """
    module = importlib.import_module(source.module)
    cls = getattr(module, source.class_name, None)
    if not isinstance(cls, type):
        return [f"class {source.module}.{source.class_name}"]
    missing = [name for name in (*source.actions, *source.conditions) if not callable(getattr(cls, name, None))]
    generated = getattr(importlib.import_module(source.generated_module), source.generated_class, None)
    if not isinstance(generated, type) or not issubclass(cls, generated):
        missing.append(f"subclass of {source.generated_module}.{source.generated_class}")
    return missing


def check_sources(sources_dir: str | Path) -> dict[str, list[str]]:
    """:func:`missing_methods` of every source in ``sources_dir`` that lacks something, by name."""
    problems = {}
    for path in source_files(sources_dir):
        source = parse_source(path)
        missing = missing_methods(source)
        if missing:
            problems[source.name] = missing
    return problems
