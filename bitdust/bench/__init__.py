"""Benchmarks: ``python -m bitdust.bench NAME [--json]`` (``all`` runs every one)."""
