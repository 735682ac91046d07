"""Celery tasks for exam delivery: thin, they take ids and call services."""

from celery import shared_task

from common import health
from exams import services


# Idempotent (each attempt is claimed by a conditional UPDATE): late acknowledgement.
@shared_task(name="exams.tasks.expire_overdue_attempts", acks_late=True)
def expire_overdue_attempts() -> int:
    """Beat, every minute: finalise attempts whose browser never came back."""
    done = services.attempts_expire_overdue()
    health.mark("sweep")
    return done
