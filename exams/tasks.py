"""Celery tasks for exam delivery: thin, they take ids and call services."""

from celery import shared_task

from exams import services


@shared_task(name="exams.tasks.score_attempt", acks_late=True)
def score_attempt(attempt_id: int) -> str | None:
    """Score a finalised attempt. The Scoring work replaces the body with real scoring."""
    raw = services.attempt_score_raw(attempt_id=attempt_id)
    return None if raw is None else str(raw)


@shared_task(name="exams.tasks.expire_overdue_attempts")
def expire_overdue_attempts() -> int:
    """Beat, every minute: finalise attempts whose browser never came back."""
    return services.attempts_expire_overdue()
