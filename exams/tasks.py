"""Celery tasks for exam delivery: thin, they take ids and call services."""

from celery import shared_task

from exams import services


@shared_task(name="exams.tasks.score_attempt", acks_late=True)
def score_attempt(attempt_id: int):
    """Kept for messages queued under this name before scoring moved to scoring.tasks."""
    from scoring.tasks import score_attempt as scoring_task

    return scoring_task(attempt_id)


@shared_task(name="exams.tasks.expire_overdue_attempts")
def expire_overdue_attempts() -> int:
    """Beat, every minute: finalise attempts whose browser never came back."""
    return services.attempts_expire_overdue()
