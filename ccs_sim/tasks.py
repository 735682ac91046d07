"""Celery tasks of the project itself."""

from celery import shared_task

from common import health


@shared_task(name="ccs_sim.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Beat, every 20 s: a worker took a task (what /healthz reports as the worker)."""
    health.mark("heartbeat")
