"""Beat's work inside the web process, for the embedded default (no broker, no beat).

Under `make run` there is no Celery beat: without this an abandoned attempt would stay in
progress forever and a lost score would never be made. When `CCS_INPROCESS_BEAT` is on (by
default exactly when no REDIS_URL is set) and the process serves requests, a daemon
thread runs each entry of CELERY_BEAT_SCHEDULE when it is due, eagerly, in that process.
With a broker, the real beat does this and the thread never starts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import threading

from celery.schedules import schedule as every
from django.conf import settings
from django.db import close_old_connections

from ccs_sim.celery import app

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0
_thread: threading.Thread | None = None
_stop = threading.Event()


class InProcessBeat:
    """Which beat entries are due, and running them: `tick` is one pass."""

    def __init__(self, entries: dict) -> None:
        # A worker imports every app's tasks module when it starts; the web process has
        # not necessarily imported them, and beat's entries name their tasks.
        app.autodiscover_tasks(force=True)
        self.entries = {
            name: (entry["task"], self._schedule(entry["schedule"]))
            for name, entry in entries.items()
        }
        # None: due at the first tick, so after a restart the sweeps run at once.
        self.last_run: dict[str, dt.datetime | None] = dict.fromkeys(self.entries)

    @staticmethod
    def _schedule(value):
        return every(run_every=value) if isinstance(value, int | float) else value

    def due(self) -> list[str]:
        return [
            name
            for name, (_, sched) in self.entries.items()
            if self.last_run[name] is None or sched.is_due(self.last_run[name]).is_due
        ]

    def tick(self) -> list[str]:
        ran = []
        for name in self.due():
            task_name, sched = self.entries[name]
            self.last_run[name] = sched.now()
            try:
                app.tasks[task_name].apply(throw=True)
                ran.append(name)
            except Exception:  # one failing entry must not stop the others
                logger.exception("in-process beat: %s failed", name)
        return ran


def _serving() -> bool:
    """Is this the process that serves requests (runserver's child, or gunicorn)?"""
    argv = " ".join(sys.argv)
    if "runserver" in sys.argv:
        # The autoreloader's parent only watches files; its child serves.
        return os.environ.get("RUN_MAIN") == "true" or "--noreload" in sys.argv
    return "gunicorn" in argv


def _loop(beat: InProcessBeat) -> None:
    while not _stop.wait(TICK_SECONDS):
        try:
            beat.tick()
        except Exception:  # keep ticking whatever one pass did
            logger.exception("in-process beat: a tick failed")
        finally:
            # The thread's own connection, as a request's would be at its end.
            close_old_connections()


def start_if_wanted() -> bool:
    """Start the scheduler thread when configured and serving; True if it runs."""
    global _thread
    if not settings.CCS_INPROCESS_BEAT or not _serving() or running():
        return running()
    beat = InProcessBeat(settings.CELERY_BEAT_SCHEDULE)
    _stop.clear()
    _thread = threading.Thread(target=_loop, args=(beat,), name="inprocess-beat", daemon=True)
    _thread.start()
    logger.info("in-process beat started with %s entries", len(beat.entries))
    return True


def running() -> bool:
    return _thread is not None and _thread.is_alive()


def stop() -> None:
    _stop.set()
