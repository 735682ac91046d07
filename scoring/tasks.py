"""Celery tasks for scoring: thin, they take ids and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from exams.models import Attempt
from scoring import services

logger = logging.getLogger(__name__)


# Scoring is idempotent (a stored result is returned as is), so a task interrupted by a
# worker's crash may run again: late acknowledgement.
@shared_task(name="scoring.tasks.score_attempt", acks_late=True)
def score_attempt(attempt_id: int) -> int | None:
    """Score a submitted or expired attempt (idempotent); returns its scaled score."""
    try:
        result = services.attempt_score(attempt_id=attempt_id)
    except Attempt.DoesNotExist:
        logger.warning("score_attempt: attempt %s does not exist", attempt_id)
        return None
    except services.AttemptNotFinished as exc:
        logger.warning("score_attempt: %s", exc)
        return None
    return result.scaled_score


@shared_task(name="scoring.tasks.score_pending", acks_late=True)
def score_pending() -> int:
    """Beat, every 30 s: score every finalised attempt that has no score yet."""
    return services.attempts_score_pending()


@shared_task(name="scoring.tasks.rescore_form", acks_late=True)
def rescore_form(form_id: int) -> int:
    """Rescore the form's results scored with an earlier table (idempotent); how many."""
    return services.form_rescore(form_id=form_id)


@shared_task(name="scoring.tasks.rescore_stale_results", acks_late=True)
def rescore_stale_results() -> int:
    """Beat: rescore results a lost rescore_form message left behind."""
    return services.results_rescore_stale()
