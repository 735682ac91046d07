"""Celery tasks for exam delivery: thin, they take ids and call services."""

from celery import shared_task

from exams import services


@shared_task(name="exams.tasks.expire_overdue_attempts")
def expire_overdue_attempts() -> int:
    """Beat, every minute: finalise attempts whose browser never came back."""
    return services.attempts_expire_overdue()
