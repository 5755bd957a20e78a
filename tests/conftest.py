"""Settings shared by the whole test suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Records every machine transition; fails a whole unit-suite run that leaves a diagram edge untaken.
pytest_plugins = ["tests.automats.edge_plugin"]

# Unit tests are deterministic: hypothesis draws the same examples on every run and machine
# (a failure it finds is reproducible, and a lucky draw cannot make CI red or green by chance).
settings.register_profile(
    "bitdust",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("bitdust")
