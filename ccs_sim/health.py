"""The probes behind /healthz: each part answers within a time-out, or is reported down.

Database, cache and broker are asked directly. The worker is up when its heartbeat task
(ccs_sim.tasks.heartbeat, sent by beat every 20 s) ran in the last minute, or when a worker
answers a ping; beat is up when the expiry sweep it sends every minute last ran under
SWEEP_LATE ago. Without a broker (the embedded default) tasks run in the web process and
the in-process scheduler (ccs_sim.scheduler) does beat's work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from ccs_sim import scheduler
from ccs_sim.celery import app
from common import health

PROBE_SECONDS = 2.0
HEARTBEAT_LATE = 60
SWEEP_LATE = 150


class Down(Exception):
    """A part that answered but is not working; the text says how."""


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_cache() -> str:
    ping = getattr(cache, "ping", None)
    if ping is not None:
        ping()
        return "ok"
    cache.set("healthz", "ok", 5)
    if cache.get("healthz") != "ok":
        raise Down("the cache did not return what was stored")
    return "ok"


def check_broker() -> str:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=1)
    return "ok"


def _age(name: str) -> float | None:
    seen = health.last(name)
    return None if seen is None else max(0.0, time.time() - seen)


def check_worker() -> str:
    age = _age("heartbeat")
    if age is not None and age <= HEARTBEAT_LATE:
        return f"ok (heartbeat {age:.0f} s ago)"
    if app.control.ping(timeout=0.5):
        return "ok (answered a ping)"
    raise Down("no heartbeat in the last minute and no worker answered a ping")


def check_beat() -> str:
    age = _age("sweep")
    if age is None:
        raise Down("no expiry sweep seen")
    if age > SWEEP_LATE:
        raise Down(f"last expiry sweep {age:.0f} s ago")
    return f"ok (last sweep {age:.0f} s ago)"


def _run_all(probes: dict[str, Callable[[], str]]) -> dict[str, str]:
    """Run the probes side by side; one that takes longer than PROBE_SECONDS is down."""
    status: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="healthz")
    try:
        futures = {name: pool.submit(probe) for name, probe in probes.items()}
        started = time.monotonic()
        for name, future in futures.items():
            left = max(0.05, PROBE_SECONDS - (time.monotonic() - started))
            try:
                status[name] = future.result(timeout=left)
            except FutureTimeout:
                status[name] = f"down: no answer within {PROBE_SECONDS:.0f} s"
            except Exception as exc:  # any failure of a part is reported, not raised
                detail = str(exc) if isinstance(exc, Down) else type(exc).__name__
                status[name] = f"down: {detail}"
    finally:
        # A probe still stuck on a dead socket finishes on its own; nobody waits for it.
        pool.shutdown(wait=False, cancel_futures=True)
    return status


def parts_status() -> dict[str, str]:
    """Every part's status: "ok…", "down: why", or what stands in for it when embedded."""
    status = {}
    # The database in this thread: its connection is the request's own, kept open.
    try:
        status["database"] = check_database()
    except Exception as exc:  # reported, not raised
        status["database"] = f"down: {type(exc).__name__}"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        status |= _run_all({"cache": check_cache})
        status["broker"] = "eager (no broker configured)"
        status["worker"] = "eager (tasks run in the web process)"
        status["beat"] = (
            "in-process scheduler" if scheduler.running() else "off (no broker, no scheduler)"
        )
        return status
    status |= _run_all(
        {
            "cache": check_cache,
            "broker": check_broker,
            "worker": check_worker,
            "beat": check_beat,
        }
    )
    if status["cache"].startswith("down"):
        # The marks live in the cache: without it a silent worker or beat cannot be told
        # from a healthy one, and only the cache is reported down.
        for name in ("worker", "beat"):
            if status[name].startswith("down"):
                status[name] = "unknown (the cache that holds its marks is down)"
    return status
