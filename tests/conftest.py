"""Settings shared by the whole test suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

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
