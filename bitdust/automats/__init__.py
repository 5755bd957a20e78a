"""State machines: source parser, generator, runtime base class, registry and diagrams.

Sources live in ``automats/<name>.md`` at the repository root and ``make automats`` generates
each ``<module>_machine.py``; :mod:`bitdust.automats.front_matter` lists the front matter keys
(payloads, deadlines, the ignore policy ...), :mod:`bitdust.automats.mermaid` the diagram syntax,
and ``docs/architecture.md`` walks through one machine from source to actions.
"""
