"""Settings shared by the whole test suite."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from bitdust.automats.registry import STRICT_ENVIRONMENT

# Every engine the tests build, in this process or in a sandbox process (which inherits the
# environment), runs its machines strict: an event with no transition in the current state that
# the machine's source does not list under 'ignore:' raises instead of being logged and dropped.
os.environ[STRICT_ENVIRONMENT] = "1"

# Records every machine transition; fails a whole unit-suite run that leaves a diagram edge untaken.
pytest_plugins = ["tests.automats.edge_plugin", "tests.automats.strict_plugin"]

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
