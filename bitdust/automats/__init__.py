"""State machines: source parser, generator, runtime base class, registry and diagrams.

Sources live in ``automats/<name>.md`` at the repository root and ``make automats`` generates
each ``<module>_machine.py``; see :mod:`bitdust.automats.source` for the format.
"""
