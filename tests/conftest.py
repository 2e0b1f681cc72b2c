"""Test-session settings shared by unit and integration tests.

Ray-related environment variables are set here, once, for this process and every
process it starts, so that a test-started Ray instance and its workers agree
(an auth-mode mismatch makes actor creation fail).
"""

from __future__ import annotations

import os

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")

from hypothesis import HealthCheck, settings

# Two shared cores make wall-clock deadlines meaningless; correctness is what we test.
settings.register_profile(
    "hasivu",
    deadline=None,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
    print_blob=True,
)
settings.load_profile("hasivu")
