"""When background work last ran, for /healthz: each mark is a timestamp in the cache.

The worker's heartbeat task and the expiry sweep (started by beat) mark themselves here;
/healthz reads the marks to tell a worker that takes no tasks, or a beat that sends none,
from a healthy one. A cache outage loses the marks, and /healthz then says so.
"""

from __future__ import annotations

import contextlib
import time

from django.core.cache import cache

_KEY = "health:last:{}"
# Longer than the longest gap between two marks, so a mark outlives its own interval.
_KEEP_SECONDS = 60 * 60


def mark(name: str) -> None:
    # A cache outage must not fail the work that marks itself.
    with contextlib.suppress(Exception):
        cache.set(_KEY.format(name), time.time(), _KEEP_SECONDS)


def last(name: str) -> float | None:
    """When `name` last marked itself (epoch seconds), or None."""
    value = cache.get(_KEY.format(name))
    return float(value) if value is not None else None
